# Первая страница: история данных журнала.
story-tagline = Единый учёт обращений граждан и административных штрафов.
story-ledger = Журнал
story-ledger-events = { $events } { $events ->
    [one] событие
    [few] события
   *[other] событий
} · { $backend }
story-root = Корень дерева
story-quarantine = Карантин
story-no-data = Данных пока нет.
story-ratings-title = Как отвечают органы
story-ratings-lead = { $count } органов оценены за весь период по их собственным записям в журнале.
story-ratings-worst = Худшие оценки
story-ratings-best = Лучшие оценки
story-col-rank = Место
story-col-agency = Орган
story-col-score = Балл
story-ratings-how = Балл учитывает ответы в срок, переадресации, поздние переадресации, блуждание, «пинг-понг» и повторные обращения; прокурор может пересчитать любой балл вручную (docs/ratings.md).
story-wandering-title = Обращение, которое блуждало
story-wandering-lead = { $count } обращений переадресованы два раза и более или вернулись в орган, который уже их рассматривал.
story-wandering-one = Обращение { $appeal } переадресовано { $forwards } раз.
story-wandering-days = Гражданин ждёт { $days } раб. дн. с первой регистрации: переадресация перезапускает срок органа, но не часы гражданина.
story-gate-title = Оплаченный штраф, дошедший до судоисполнителя
story-gate-lead = В этой истории { $count } передач судоисполнителям состоялись после оплаты штрафа. casetrail находит каждую и сразу отзывает.
story-gate-uin = Код платежа (УИН)
story-gate-amount = Сумма
story-gate-paid = Оплачен
story-gate-referred = Передан судоисполнителю
story-gate-days-after = через { $days } { $days ->
    [one] день
    [few] дня
   *[other] дней
} после оплаты
story-gate-recalled = Отозван casetrail
story-gate-not-recalled = ещё не отозван
story-gate-how = Теперь шлюз не пропускает такую передачу: начисление, покрытое платежом или удержанное платежом, который ещё сопоставляется, передать нельзя.
story-gate-none = В этой истории нет штрафов, переданных после оплаты.
story-receipt-title = Квитанция, проверенная
story-receipt-ok = Квитанция этого платежа (событие { $seq }) доказана в подписанном дереве из { $size } событий: доказательство включения и подпись вершины дерева верны.
story-receipt-failed = Квитанция не прошла проверку:
story-receipt-how = Любой может проверить квитанцию без сети командой `casetrail receipt verify` или любой реализацией RFC 9162, а по более поздней вершине дерева — что ничего не переписано.
