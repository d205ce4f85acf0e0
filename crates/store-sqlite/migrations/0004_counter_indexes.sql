-- The scorecard sums counters by metric prefix over a period
-- (`Store::counter_sums`). A long period reads the metric's rows in
-- (metric, agency) order, so that the sums come out of the index already
-- grouped (no sort of tens of thousands of groups); a short one (the days
-- of a month begun) reads only its days, not every day of every metric.
DROP INDEX agency_day_counters_metric;
CREATE INDEX agency_day_counters_metric ON agency_day_counters (metric, agency, day, value);
CREATE INDEX agency_day_counters_day ON agency_day_counters (day, metric, agency, value);
