-- Every version of every record, with its Kafka lineage: the audit history.
-- Keyed by (record_id, version): a replayed insert of the same version collapses on merge
-- and is read once by every query (they group by record_id and version).
CREATE TABLE IF NOT EXISTS production_history
(
    record_id String,
    version UInt64,
    well_code String,
    well_code_raw String,
    field_code String,
    field_name Nullable(String),
    well_reference Nullable(String),
    well_name Nullable(String),
    period String,
    period_start Date32,
    period_type LowCardinality(String),
    days_in_period UInt16,
    days_on_production Nullable(Float64),
    oil_bbl Nullable(Float64),
    gas_mcf Nullable(Float64),
    water_bbl Nullable(Float64),
    liquids_bbl Nullable(Float64),
    oil_production_kbd Nullable(Float64),
    gas_production_mmcfd Nullable(Float64),
    water_production_kbd Nullable(Float64),
    liquids_production_kbd Nullable(Float64),
    boe Nullable(Float64),
    water_cut Nullable(Float64),
    gor Nullable(Float64),
    original_values String,
    flags Array(LowCardinality(String)),
    operator Nullable(String),
    basin Nullable(String),
    country Nullable(String),
    well_status Nullable(String),
    data_source LowCardinality(String),
    revision UInt32,
    extra String,
    source_topic LowCardinality(String),
    source_partition Int32,
    source_offset Int64,
    ingested_at DateTime64(3, 'UTC'),
    normalized_at DateTime64(3, 'UTC'),
    schema_version UInt16,
    kafka_topic LowCardinality(String),
    kafka_partition Int32,
    kafka_offset Int64,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (record_id, version)
SETTINGS non_replicated_deduplication_window = 10000;

-- The current version of each natural key. Background merges keep the highest version;
-- reads never rely on merges having run (they take argMax by version per record_id).
CREATE TABLE IF NOT EXISTS production
(
    record_id String,
    version UInt64,
    well_code String,
    field_code String,
    field_name Nullable(String),
    well_reference Nullable(String),
    well_name Nullable(String),
    period String,
    period_start Date32,
    period_type LowCardinality(String),
    days_in_period UInt16,
    days_on_production Nullable(Float64),
    oil_bbl Nullable(Float64),
    gas_mcf Nullable(Float64),
    water_bbl Nullable(Float64),
    liquids_bbl Nullable(Float64),
    boe Nullable(Float64),
    water_cut Nullable(Float64),
    gor Nullable(Float64),
    flags Array(LowCardinality(String)),
    operator Nullable(String),
    basin Nullable(String),
    country Nullable(String),
    well_status Nullable(String),
    data_source LowCardinality(String),
    ingested_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (well_code, period_start, record_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS production_current_mv TO production AS
SELECT
    record_id, version, well_code, field_code, field_name, well_reference, well_name,
    period, period_start, period_type, days_in_period, days_on_production,
    oil_bbl, gas_mcf, water_bbl, liquids_bbl, boe, water_cut, gor, flags,
    operator, basin, country, well_status, data_source, ingested_at
FROM production_history;

-- Rejected messages from every stage, as published on the dead-letter topic.
CREATE TABLE IF NOT EXISTS dead_letters
(
    id String,
    stage LowCardinality(String),
    errors String,
    error_codes Array(LowCardinality(String)),
    source_topic Nullable(String),
    source_partition Nullable(Int32),
    source_offset Nullable(Int64),
    line Nullable(Int64),
    failed_at DateTime64(3, 'UTC'),
    payload Nullable(String),
    payload_base64 Nullable(String),
    kafka_partition Int32,
    kafka_offset Int64,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (id)
SETTINGS non_replicated_deduplication_window = 10000;
