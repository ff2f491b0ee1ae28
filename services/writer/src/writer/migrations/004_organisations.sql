-- Organisations: every record, every version and every dead letter has an owner. Rows
-- stored before belong to the default organisation, whose record_ids are unchanged
-- (contracts.identifiers.record_id), so their restatements keep replacing them.
ALTER TABLE production_history ADD COLUMN IF NOT EXISTS organisation LowCardinality(String) DEFAULT 'default' AFTER schema_version;

ALTER TABLE production ADD COLUMN IF NOT EXISTS organisation LowCardinality(String) DEFAULT 'default';

ALTER TABLE production_current_mv MODIFY QUERY
SELECT
    record_id, version, well_code, field_code, field_name, well_reference, well_name,
    period, period_start, period_type, days_in_period, days_on_production,
    oil_bbl, gas_mcf, water_bbl, liquids_bbl, boe, water_cut, gor, flags,
    operator, basin, country, well_status, data_source, ingested_at, organisation
FROM production_history;

ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS organisation LowCardinality(String) DEFAULT 'default';

-- Every read filters on the owner (gateway.sql.VISIBLE): the field projection holds it,
-- or field reads would leave it for the whole table.
ALTER TABLE production DROP PROJECTION IF EXISTS by_field;

ALTER TABLE production ADD PROJECTION IF NOT EXISTS by_field
(
    SELECT field_code, period_start, period_type, well_code, record_id, version, data_source,
           days_on_production, oil_bbl, gas_mcf, water_bbl, liquids_bbl, field_name, ingested_at,
           organisation
    ORDER BY field_code, period_start, well_code
);

ALTER TABLE production MATERIALIZE PROJECTION by_field;

-- What an owner shares with a partner: a well or a field, over a period range. A revoked
-- share is deleted (a lightweight DELETE: the next read no longer sees it).
CREATE TABLE IF NOT EXISTS shares
(
    id String,
    owner LowCardinality(String),
    partner LowCardinality(String),
    kind LowCardinality(String),
    code String,
    first_period Date32,
    last_period Date32,
    created_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (partner, id)
SETTINGS non_replicated_deduplication_window = 10000;
