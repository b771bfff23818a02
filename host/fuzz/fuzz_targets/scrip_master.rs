//! Fuzzes the scrip-master parser: any bytes, in either CSV layout, must parse or fail
//! with an error, never panic, and every row must be accounted for exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optionhub::instruments::scrip_master::{Filter, MAX_KEPT_BAD_ROWS, parse};

/// Headers of the two layouts, so most inputs reach the row parser rather than stopping
/// at "missing columns".
const HEADERS: [&[u8]; 2] = [
    b"SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_EXPIRY_CODE,SEM_TRADING_SYMBOL,SEM_LOT_UNITS,SEM_CUSTOM_SYMBOL,SEM_EXPIRY_DATE,SEM_STRIKE_PRICE,SEM_OPTION_TYPE,SEM_TICK_SIZE,SEM_EXPIRY_FLAG,SEM_EXCH_INSTRUMENT_TYPE,SEM_SERIES,SM_SYMBOL_NAME\n",
    b"EXCH_ID,SEGMENT,SECURITY_ID,ISIN,INSTRUMENT,UNDERLYING_SECURITY_ID,UNDERLYING_SYMBOL,SYMBOL_NAME,DISPLAY_NAME,INSTRUMENT_TYPE,SERIES,LOT_SIZE,SM_EXPIRY_DATE,STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG\n",
];

fuzz_target!(|data: &[u8]| {
    let filter = Filter::new(["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX"]);
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let input: Vec<u8> = match selector % 3 {
        0 => body.to_vec(),
        header => [HEADERS[usize::from(header - 1)], body].concat(),
    };
    let Ok(master) = parse(input.as_slice(), &filter) else {
        return;
    };
    assert!(master.bad_rows.len() <= MAX_KEPT_BAD_ROWS);
    assert!(master.bad_rows.len() <= master.bad_row_count);
    // A row is skipped, kept or bad: never more rows accounted for than lines given
    // (CSV ends a record at `\n`, `\r` or both, so counting each is an upper bound).
    let lines = input.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
    assert!(master.instruments.len() + master.skipped_rows + master.bad_row_count <= lines);
});
