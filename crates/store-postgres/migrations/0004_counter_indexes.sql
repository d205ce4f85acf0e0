-- The scorecard sums counters by metric prefix over a period
-- (`Store::counter_sums`): by (metric, agency) for a long period, so that
-- the sums come out of the index already grouped; by day for a short one
-- (the days of a month begun), so that only those days are read.
DROP INDEX agency_day_counters_metric;
CREATE INDEX agency_day_counters_metric ON agency_day_counters (metric, agency, day) INCLUDE (value);
CREATE INDEX agency_day_counters_day ON agency_day_counters (day, metric) INCLUDE (agency, value);
