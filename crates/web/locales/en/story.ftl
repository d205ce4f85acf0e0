# The first page: the story of the ledger's data.
story-tagline = One accountable trail for every citizen appeal and administrative fine.
story-ledger = Ledger
story-ledger-events = { $events ->
    [one] { $events } event
   *[other] { $events } events
} · { $backend }
story-root = Tree root
story-quarantine = Quarantine
story-no-data = No data yet.
story-ratings-title = How agencies answer
story-ratings-lead = { $count } agencies rated over the whole period, from their own records in the ledger.
story-ratings-worst = Lowest rated
story-ratings-best = Highest rated
story-col-rank = Rank
story-col-agency = Agency
story-col-score = Score
story-ratings-how = The score weighs answers on time, forwards, late forwards, wandering, ping-pong and repeat appeals; a prosecutor can recompute any score by hand (docs/ratings.md).
story-wandering-title = An appeal that wandered
story-wandering-lead = { $count } appeals were forwarded twice or more, or came back to a body that had held them.
story-wandering-one = Appeal { $appeal } was forwarded { $forwards } times.
story-wandering-days = The citizen has waited { $days ->
    [one] { $days } working day
   *[other] { $days } working days
} since the first registration: forwarding restarts an agency's term, never the citizen's clock.
story-gate-title = A paid fine that reached a bailiff
story-gate-lead = In this history, { $count } referrals went to bailiffs after the fine had been paid. casetrail finds each one and recalls it at once.
story-gate-uin = Payment code (UIN)
story-gate-amount = Amount
story-gate-paid = Paid
story-gate-referred = Referred to the bailiff
story-gate-days-after = { $days ->
    [one] { $days } day
   *[other] { $days } days
} after payment
story-gate-recalled = Recalled by casetrail
story-gate-not-recalled = not yet recalled
story-gate-how = From now on the gate refuses such a referral: a charge covered by a payment, or held back by a payment still being matched, cannot be referred.
story-gate-none = No fine in this history was referred after it had been paid.
story-receipt-title = A receipt, verified
story-receipt-ok = The receipt of that payment (event { $seq }) is proved in the signed tree of { $size } events: the inclusion proof and the tree head's signature check out.
story-receipt-failed = The receipt did not verify:
story-receipt-how = Anyone can check a receipt offline with `casetrail receipt verify` or any RFC 9162 implementation, and against a later tree head to see that nothing was rewritten.
