//! CSV registers, UTF-8 and Windows-1251.

use casetrail_connectors::csv;
use casetrail_exchange::Record;

const REGISTER: &str = "Дата;Номер платежа;УИН;ИИН плательщика;Сумма, тг\r\n\
02.03.2026 10:15;K24-1;10000000000000000014;850808310738;17 300,00\r\n\
03.03.2026;K24-2;;940140000385;8650,50\r\n\
31.02.2026;K24-3;;;100,00\r\n\
04.03.2026 09:00:00;K24-4;;85080831073;100,00\r\n\
05.03.2026;K24-5;;;сто\r\n\
\r\n";

#[test]
fn a_windows_1251_register_lands_and_its_bad_rows_are_quarantined_with_line_and_column() {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(REGISTER);
    assert!(!unmappable && std::str::from_utf8(&bytes).is_err(), "the fixture really is 1251");
    for input in [bytes.to_vec(), REGISTER.as_bytes().to_vec()] {
        let items = csv::read(&input, "kassa24");
        assert_eq!(items.len(), 5);
        let Ok(first) = &items[0].parsed else { panic!("{:?}", items[0].parsed) };
        let Record::PaymentReceived(payment) = &first.record else { panic!("{first:?}") };
        assert_eq!(payment.payment.as_str(), "K24-1");
        assert_eq!(payment.provider.as_str(), "kassa24");
        assert_eq!(payment.uin.as_deref(), Some("10000000000000000014"));
        assert_eq!(payment.amount_kzt.to_decimal_string(), "17300.00");
        assert_eq!(first.at.to_rfc3339(), "2026-03-02T10:15:00+05:00", "local Kazakhstan time");
        assert_eq!(first.idempotency_key(), "K24-1");
        let Ok(second) = &items[1].parsed else { panic!("{:?}", items[1].parsed) };
        let Record::PaymentReceived(payment) = &second.record else { panic!("{second:?}") };
        assert!(payment.payer.as_ref().is_some_and(|p| p.bin.is_some()), "a BIN payer");
        assert_eq!(payment.amount_kzt.to_decimal_string(), "8650.50");
        let failures: Vec<(Option<u64>, Option<String>)> = items
            .iter()
            .filter_map(|item| item.parsed.as_ref().err().map(|error| (item.line, error.field.clone())))
            .collect();
        assert_eq!(
            failures,
            vec![
                (Some(4), Some("column 1 (Дата)".to_owned())),
                (Some(5), Some("column 4 (ИИН плательщика)".to_owned())),
                (Some(6), Some("column 5 (Сумма, тг)".to_owned())),
            ]
        );
        assert_eq!(items[2].raw, "31.02.2026;K24-3;;;100,00".as_bytes(), "the row's text is kept");
    }
}

#[test]
fn a_register_without_the_required_columns_is_refused_at_its_header() {
    let items = csv::read("Дата;Комментарий\n02.03.2026;x\n".as_bytes(), "kassa24");
    assert_eq!(items.len(), 1);
    let error = items[0].parsed.as_ref().err().map(|e| e.reason.clone()).unwrap_or_default();
    assert!(error.contains("payment number") && error.contains("amount"), "{error}");
    let english = csv::read(b"date;payment id;amount\n02.03.2026;T-1;100.00\n", "kassa24");
    assert!(english[0].parsed.is_ok(), "{:?}", english[0].parsed);
}
