//! Prints what each camt file gives: `cargo run -p casetrail-connectors --example camt_dump -- CCY FILE...`.
fn main() {
    let mut args = std::env::args().skip(1);
    let currency = args.next().unwrap_or_else(|| "KZT".into());
    for path in args {
        let options = casetrail_connectors::camt::CamtOptions { currency: currency.clone(), ..Default::default() };
        match casetrail_connectors::camt::read_file(std::path::Path::new(&path), &options) {
            Ok((summary, items)) => {
                println!("{path}\n  {summary:?}");
                for item in items {
                    match item.parsed {
                        Ok(event) => {
                            println!("  {} {}", item.line.unwrap_or(0), String::from_utf8_lossy(&event.canonical))
                        }
                        Err(error) => println!("  {} ERR {error}", item.line.unwrap_or(0)),
                    }
                }
            }
            Err(error) => println!("{path}: {error}"),
        }
    }
}
