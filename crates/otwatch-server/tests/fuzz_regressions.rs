//! Inputs the fuzz targets found, kept as regression tests.

use otwatch_server::api::alerts::IngestBody;
use otwatch_server::api::json::parse;

/// `fuzz/fuzz_targets/ingest.rs`: a body with bytes after its JSON value was
/// accepted (`{"detections":[]}[`), so a second object sent in the same body
/// was silently dropped. Anything but white space after the value is a 400.
#[test]
fn ingest_bodies_with_trailing_bytes_are_refused() {
    for body in [
        &b"{\"detections\":[]}["[..],
        b"{\"detections\":[]}{\"detections\":[]}",
        b"{\"detections\":[]} x",
        b"{\"detections\":[]}\0",
    ] {
        let e = parse::<IngestBody>(body).err().unwrap_or_else(|| {
            panic!("accepted {:?}", String::from_utf8_lossy(body));
        });
        let text = e.to_string();
        assert!(text.starts_with("invalid JSON body") && text.contains("trailing"), "{text}");
    }
    for body in [&b"{\"detections\":[]}"[..], b"  {\"detections\":[]}\r\n\t "] {
        assert!(parse::<IngestBody>(body).is_ok(), "{:?}", String::from_utf8_lossy(body));
    }
}
