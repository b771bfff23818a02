//! Fuzzes the feed codec's frame walk: any bytes must walk to the end without a panic,
//! and every packet it decodes must survive encode → decode bit for bit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optionhub::feed::dhan::codec::{decode_frame, decode_packet, encode_packet, encoded_len};

fuzz_target!(|data: &[u8]| {
    let mut items = 0_usize;
    for item in decode_frame(data) {
        items += 1;
        // Every item consumes at least a header's worth of bytes, or ends the walk.
        assert!(
            items <= data.len().div_ceil(8),
            "walk did not make progress"
        );
        let Ok(packet) = item else { continue };
        let mut encoded = Vec::new();
        encode_packet(&packet, &mut encoded);
        assert_eq!(encoded.len(), encoded_len(&packet.body));
        let (again, used) = match decode_packet(&encoded) {
            Ok(decoded) => decoded,
            Err(error) => panic!("re-encoded {packet:?} does not decode: {error}"),
        };
        assert_eq!(used, encoded.len());
        // Compared as bytes: `==` on floats would fail on NaN and forgive -0.0 vs 0.0,
        // while every field is written, so equal bytes mean bit-identical packets.
        let mut re_encoded = Vec::new();
        encode_packet(&again, &mut re_encoded);
        assert_eq!(re_encoded, encoded, "decode(encode(p)) != p for {packet:?}");
    }
});
