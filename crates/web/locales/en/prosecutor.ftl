# The prosecutor pages.
prosecutor-nav-label = Oversight pages
prosecutor-nav-ratings = Ratings
prosecutor-nav-wandering = Wandering appeals
prosecutor-nav-forwards = Forwards
prosecutor-nav-trends = Trends
prosecutor-nav-disputes = Competence disputes
prosecutor-nav-alerts = Alerts
prosecutor-nav-audit = Paid but referred
prosecutor-nav-access = Access log
prosecutor-period = Period
prosecutor-period-from = From
prosecutor-period-to = To
prosecutor-period-show = Show
prosecutor-period-help = Leave a date empty for no limit on that side. Appeals count by the day a body received them.
prosecutor-period-all = For the whole record.
prosecutor-period-between = From { $from } to { $to }.
prosecutor-period-since = From { $from }.
prosecutor-period-until = Until { $to }.
prosecutor-bad-date = “{ $value }” is not a date. Use the form YYYY-MM-DD.
prosecutor-period-reversed = The period starts on { $from }, after it ends on { $to }. Choose a start on or before the end.
prosecutor-ratings-title = Ratings of agencies
prosecutor-ratings-lead = How agencies handled the appeals they received, lowest score first.
prosecutor-ratings-empty = No agency in your scope received an appeal in this period.
prosecutor-ratings-caption = { $count ->
    [one] { $count } agency
   *[other] { $count } agencies
}, lowest score first
prosecutor-ratings-method = The score (0–100) weighs answers on time (40), appeals not forwarded (15), no late forwards, no wandering, no ping-pong and no repeat appeals (10 each) and the citizen's median wait (5), counted on the citizen's clock that never restarts.
prosecutor-ratings-method-link = The full methodology (docs/ratings.md)
prosecutor-ratings-rank-help = The rank is the agency's place among every agency rated in the period, in all regions (1 is the best).
prosecutor-col-agency = Agency
prosecutor-col-received = Received
prosecutor-col-on-time = Answered on time, %
prosecutor-col-forwarded = Forwarded, %
prosecutor-col-late-forwards = Late forwards
prosecutor-col-wandering = Wandering
prosecutor-col-ping-pong = Ping-pong
prosecutor-col-repeat = Repeat appeals, %
prosecutor-col-median-days = Citizen's median working days
prosecutor-col-score = Score
prosecutor-col-rank = Rank
prosecutor-wandering-title = Wandering appeals
prosecutor-wandering-lead = Appeals forwarded twice or more, or sent back to a body that already held them.
prosecutor-wandering-list = Every wandering appeal
prosecutor-wandering-empty = No wandering appeal in your scope in this period.
prosecutor-wandering-count = Showing { $shown } of { $total }, furthest first.
prosecutor-path-number = Appeal number
prosecutor-path-show = Show its path
prosecutor-path-title = Path of appeal { $appeal }
prosecutor-path-summary = { $forwards ->
    [one] Forwarded once
   *[other] Forwarded { $forwards } times
}; { $days ->
    [one] { $days } working day
   *[other] { $days } working days
} on the citizen's clock.
prosecutor-path-table = Every body that held it
prosecutor-path-not-found = There is no appeal { $appeal }.
prosecutor-no-data = No data
prosecutor-cycle = cycle
prosecutor-col-appeal = Appeal
prosecutor-col-forwards = Forwards
prosecutor-col-path = Path
prosecutor-col-citizen-days = Citizen's working days
prosecutor-col-registered = Registered
prosecutor-col-holder = Held by now
prosecutor-col-body = Body
prosecutor-col-received-on = Received
prosecutor-col-days-held = Working days held
prosecutor-col-why-moved = Why it moved on
prosecutor-forwards-title = Forwards between agencies
prosecutor-forwards-lead = Who forwards appeals to whom: rows send, columns receive; darker cells forward more.
prosecutor-forwards-chart = Forwards between agencies
prosecutor-forwards-from = from
prosecutor-forwards-to = to
prosecutor-forwards-unit = forwards
prosecutor-forwards-legend = Forwards per pair
prosecutor-forwards-total = { $count ->
    [one] { $count } forward
   *[other] { $count } forwards
} in this period.
prosecutor-forwards-busiest = The busiest pairs
prosecutor-col-from = From
prosecutor-col-to = To
prosecutor-col-count = Forwards
prosecutor-trends-title = Trends
prosecutor-trends-lead = Appeals registered per month, by category and by region: what people complain about, and where.
prosecutor-trends-total = { $count ->
    [one] { $count } appeal
   *[other] { $count } appeals
} registered in this period.
prosecutor-trends-by-category = Appeals by month and category
prosecutor-trends-by-region = Appeals by month and region
prosecutor-trends-unit = appeals
prosecutor-trends-other = Other
prosecutor-trends-no-region = No region
prosecutor-col-category = Category
prosecutor-col-region = Region
prosecutor-col-appeals = Appeals
