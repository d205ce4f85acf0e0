-- The scorecard reads its tallies by metric prefix and day range
-- (`Store::counter_sums`); the index carries the value so that the read
-- never visits the table.
CREATE INDEX agency_day_counters_metric ON agency_day_counters (metric, day, agency, value);
