//! Payment registers as payment terminals and post offices send them:
//! `;`-separated text, UTF-8 (with or without a BOM) or Windows-1251 (a file
//! that is not valid UTF-8 is read as 1251), a header row naming the
//! columns in Russian, Kazakh or English (see `docs/connectors.md`), dates
//! `dd.mm.yyyy` with an optional `HH:MM[:SS]` in Kazakhstan's local time,
//! amounts such as `17 300,00`.
//!
//! Each data row becomes a `payment.received` whose id and payment id are
//! the row's payment number and whose provider is the source (e.g.
//! `kassa24`); a row that does not parse is a failure item naming its line,
//! column and reason, and the other rows still land.

use casetrail_exchange::{Event, Ident, Party, PaymentReceived, Record};
use casetrail_types::{Bin, Iin, Money};
use chrono::{NaiveDate, NaiveTime};

use crate::Item;

/// The columns a register has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Date,
    Time,
    Payment,
    Uin,
    Payer,
    Amount,
}

/// Accepted header names, compared without case, surrounding spaces or a
/// trailing unit in parentheses or after a comma (`Сумма, тг`).
pub const HEADER_NAMES: &[(Column, &[&str])] = &[
    (Column::Date, &["дата", "дата платежа", "дата оплаты", "дата и время", "күні", "төлем күні", "date", "paid_at"]),
    (Column::Time, &["время", "время платежа", "уақыты", "уақыт", "time"]),
    (
        Column::Payment,
        &[
            "номер платежа",
            "№ платежа",
            "номер квитанции",
            "номер транзакции",
            "id платежа",
            "төлем нөмірі",
            "түбіртек нөмірі",
            "payment",
            "payment id",
            "payment_id",
            "transaction id",
        ],
    ),
    (Column::Uin, &["уин", "уін", "uin", "уникальный идентификационный номер", "код начисления"]),
    (
        Column::Payer,
        &[
            "иин плательщика",
            "иин/бин плательщика",
            "бин плательщика",
            "иин",
            "бин",
            "иин/бин",
            "төлеушінің жсн",
            "төлеушінің жсн/бсн",
            "жсн",
            "бсн",
            "жсн/бсн",
            "payer",
            "payer iin",
            "payer iin/bin",
            "iin",
            "bin",
            "iin/bin",
        ],
    ),
    (Column::Amount, &["сумма", "сумма платежа", "сома", "төлем сомасы", "amount", "amount_kzt", "amount kzt"]),
];

/// The text of a register: UTF-8 when it is valid UTF-8 (a BOM is dropped),
/// else Windows-1251. Returns the text and the encoding's name.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "UTF-8"),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
            (text.into_owned(), "windows-1251")
        }
    }
}

fn normalise(name: &str) -> String {
    let mut name = name.trim().trim_matches('"').trim().to_lowercase().replace('ё', "е");
    for cut in [" (", ",", "("] {
        if let Some(at) = name.find(cut) {
            name.truncate(at);
        }
    }
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column a header names, if any.
pub fn column_of(name: &str) -> Option<Column> {
    let name = normalise(name);
    HEADER_NAMES.iter().find(|(_, names)| names.contains(&name.as_str())).map(|(column, _)| *column)
}

/// Splits one line on `;`, honouring `"..."` quoting with `""` escapes.
fn split(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (';', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Reads a whole register from `source`: one item per data row.
pub fn read(bytes: &[u8], source: &str) -> Vec<Item> {
    let (text, _) = decode(bytes);
    let mut lines = text.lines().enumerate().map(|(i, line)| (i as u64 + 1, line.trim_end_matches('\r')));
    let Some((header_line, header)) = lines.by_ref().find(|(_, line)| !line.trim().is_empty()) else {
        return Vec::new();
    };
    let headers = split(header);
    let columns: Vec<Option<Column>> = headers.iter().map(|name| column_of(name)).collect();
    let find = |wanted: Column| columns.iter().position(|c| *c == Some(wanted));
    let missing: Vec<&str> = [(Column::Date, "date"), (Column::Payment, "payment number"), (Column::Amount, "amount")]
        .iter()
        .filter(|(column, _)| find(*column).is_none())
        .map(|(_, name)| *name)
        .collect();
    if !missing.is_empty() {
        return vec![Item::failure(
            Some(header_line),
            header.as_bytes().to_vec(),
            None,
            format!(
                "the header row names no {} column; accepted names are listed in docs/connectors.md (e.g. Дата;Номер платежа;УИН;ИИН плательщика;Сумма)",
                missing.join(", no ")
            ),
        )];
    }
    let Ok(provider) = Ident::parse(source) else {
        return vec![Item::failure(
            Some(header_line),
            Vec::new(),
            None,
            format!("{source:?} is not a usable provider name"),
        )];
    };
    let layout = Layout {
        date: find(Column::Date),
        time: find(Column::Time),
        payment: find(Column::Payment),
        uin: find(Column::Uin),
        payer: find(Column::Payer),
        amount: find(Column::Amount),
        headers,
    };
    lines
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| match row(&layout, &provider, line) {
            Ok(event) => Item::event(Some(number), event),
            Err((field, reason)) => Item::failure(Some(number), line.as_bytes().to_vec(), Some(&field), reason),
        })
        .collect()
}

struct Layout {
    date: Option<usize>,
    time: Option<usize>,
    payment: Option<usize>,
    uin: Option<usize>,
    payer: Option<usize>,
    amount: Option<usize>,
    headers: Vec<String>,
}

impl Layout {
    fn field(&self, index: usize) -> String {
        format!("column {} ({})", index + 1, self.headers.get(index).map(|h| h.trim()).unwrap_or_default())
    }
}

fn row(layout: &Layout, provider: &Ident, line: &str) -> Result<Event, (String, String)> {
    let fields = split(line);
    let get = |index: Option<usize>| index.and_then(|i| fields.get(i)).map(|f| f.trim()).filter(|f| !f.is_empty());
    let fail = |index: Option<usize>, reason: String| (index.map(|i| layout.field(i)).unwrap_or_default(), reason);
    if fields.len() < layout.headers.len() {
        return Err((
            format!("column {}", fields.len() + 1),
            format!("the row has {} columns, the header {}", fields.len(), layout.headers.len()),
        ));
    }
    let date_text = get(layout.date).ok_or_else(|| fail(layout.date, "is empty".into()))?;
    let (day, mut time) = parse_date_time(date_text).map_err(|reason| fail(layout.date, reason))?;
    if let Some(text) = get(layout.time) {
        time = parse_time(text).ok_or_else(|| fail(layout.time, format!("{text:?} is not HH:MM or HH:MM:SS")))?;
    }
    let at = crate::camt::kz_local(day.and_time(time));
    let number = get(layout.payment).ok_or_else(|| fail(layout.payment, "is empty".into()))?;
    let payment = Ident::parse(number).map_err(|error| fail(layout.payment, error.to_string()))?;
    let amount_text = get(layout.amount).ok_or_else(|| fail(layout.amount, "is empty".into()))?;
    let amount = Money::parse(amount_text).map_err(|error| fail(layout.amount, error.to_string()))?;
    if amount.tiyn() <= 0 {
        return Err(fail(layout.amount, "must be positive".into()));
    }
    let payer = match get(layout.payer) {
        None => None,
        Some(number) => Some(match (Iin::parse(number), Bin::parse(number)) {
            (Ok(iin), _) => Party { iin: Some(iin), bin: None, name: None },
            (_, Ok(bin)) => Party { iin: None, bin: Some(bin), name: None },
            (Err(error), _) => return Err(fail(layout.payer, format!("not a valid IIN or BIN: {error}"))),
        }),
    };
    let record = Record::PaymentReceived(PaymentReceived {
        payment: payment.clone(),
        provider: provider.clone(),
        uin: get(layout.uin).map(str::to_owned),
        payer,
        amount_kzt: amount,
    });
    Event::new(Some(payment), at, record).map_err(|error| (error.field.unwrap_or_default(), error.reason))
}

/// `dd.mm.yyyy` with an optional ` HH:MM[:SS]`.
fn parse_date_time(text: &str) -> Result<(NaiveDate, NaiveTime), String> {
    let (date, time) = match text.split_once(char::is_whitespace) {
        Some((date, time)) => (date, Some(time.trim())),
        None => (text, None),
    };
    let day = NaiveDate::parse_from_str(date, "%d.%m.%Y")
        .map_err(|_| format!("{text:?} is not a date dd.mm.yyyy [HH:MM[:SS]]"))?;
    let time = match time {
        None => NaiveTime::MIN,
        Some(time) => parse_time(time).ok_or_else(|| format!("{text:?}: the time is not HH:MM or HH:MM:SS"))?,
    };
    Ok((day, time))
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_in_three_languages() {
        assert_eq!(column_of(" Дата "), Some(Column::Date));
        assert_eq!(column_of("Сумма, тг"), Some(Column::Amount));
        assert_eq!(column_of("Төлем сомасы"), Some(Column::Amount));
        assert_eq!(column_of("ИИН плательщика"), Some(Column::Payer));
        assert_eq!(column_of("Payment ID"), Some(Column::Payment));
        assert_eq!(column_of("УИН"), Some(Column::Uin));
        assert_eq!(column_of("Комментарий"), None);
    }

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(split("a;\"b;c\";\"d\"\"e\""), vec!["a", "b;c", "d\"e"]);
        assert_eq!(split("a;;"), vec!["a", "", ""]);
    }

    #[test]
    fn dates_and_times() {
        let (day, time) = parse_date_time("02.03.2026 10:15").unwrap_or_else(|error| panic!("{error}"));
        assert_eq!((day.to_string(), time.to_string()), ("2026-03-02".into(), "10:15:00".into()));
        assert!(parse_date_time("2026-03-02").is_err());
        assert!(parse_date_time("31.02.2026").is_err());
        assert!(parse_date_time("02.03.2026 25:00").is_err());
    }
}
