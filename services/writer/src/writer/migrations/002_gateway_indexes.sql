-- Reads by field: `production` is sorted by well, so a field's rows are spread over the
-- whole table. A projection sorted by field holds the columns the field reads use
-- (series, summary, detail), so they read a field's granules only.
-- ReplacingMergeTree keeps projections only when told how to treat them on merges:
-- 'rebuild' recomputes a merged part's projection from its deduplicated rows.
ALTER TABLE production MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE production ADD PROJECTION IF NOT EXISTS by_field
(
    SELECT field_code, period_start, period_type, well_code, record_id, version, data_source,
           days_on_production, oil_bbl, gas_mcf, water_bbl, liquids_bbl, field_name, ingested_at
    ORDER BY field_code, period_start, well_code
);

-- Builds the projection for parts written before it existed (a background mutation).
ALTER TABLE production MATERIALIZE PROJECTION by_field;
