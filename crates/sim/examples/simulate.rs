//! `cargo run --release -p casetrail-sim --example simulate -- city 42 [FILE]`
use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let scale: casetrail_sim::Scale =
        args.next().unwrap_or_else(|| "city".into()).parse().map_err(std::io::Error::other)?;
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(42);
    let out = args.next().unwrap_or_else(|| "/dev/stdout".into());
    let config = casetrail_sim::SimConfig::new(scale, seed);
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let started = std::time::Instant::now();
    let summary = casetrail_sim::simulate(&config, &mut writer, &mut |_| {})?;
    writer.flush()?;
    eprintln!("{summary:#?}\nin {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
