//! Fuzz target for the dnp3 dissector: any input must decode or fail cleanly, never panic.
//!
//! Checks the framing contract (a parsed frame takes exactly `pdu_len`
//! octets), the link round trip (a frame without CRC errors re-encodes to the
//! same octets), the reassembler's memory bound, and walks every object
//! header and object decoder of every completed fragment. The input is also
//! decoded directly as an application fragment, so object parsing is reached
//! without valid CRCs.
#![no_main]

use otwatch_dissect::dnp3::{
    self, AnalogOutput, AuthChallenge, AuthError, AuthReply, Crob, DeviceAttribute, FileCommand,
    ObjectGroup, Reassembler,
};

fn walk_fragment(fragment: &[u8]) {
    let Ok(app) = dnp3::parse_application(fragment) else { return };
    let _ = app.anomalies.names().count();
    let _ = app.function.operation();
    assert!(app.object_headers <= dnp3::MAX_OBJECT_HEADERS);
    let mut headers = 0usize;
    for header in app.objects() {
        headers += 1;
        for point in header.points() {
            match header.group {
                ObjectGroup::BINARY_COMMAND => {
                    let _ = Crob::parse(point.data);
                }
                ObjectGroup::ANALOG_OUTPUT => {
                    let _ = AnalogOutput::parse(header.variation, point.data);
                }
                ObjectGroup::DEVICE_ATTRIBUTES => {
                    let _ =
                        DeviceAttribute::parse(header.variation, point.data).and_then(|a| a.text());
                }
                ObjectGroup::FILE_CONTROL => {
                    let _ = FileCommand::parse(point.data);
                }
                ObjectGroup::AUTHENTICATION => {
                    let _ = AuthChallenge::parse(point.data);
                    let _ = AuthReply::parse(point.data);
                    let _ = AuthError::parse(point.data);
                }
                _ => {}
            }
        }
    }
    assert_eq!(headers, app.object_headers, "the walk and the iterator disagree");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = dnp3::probe(data);
    walk_fragment(data);

    let mut reassembler = Reassembler::new();
    let mut input = data;
    let mut reencoded = Vec::new();
    let mut user = Vec::new();
    while !input.is_empty() {
        let Ok(len) = dnp3::pdu_len(input) else { break };
        let Ok((rest, frame)) = dnp3::parse(input) else { break };
        assert_eq!(input.len() - rest.len(), len, "parse consumed a different length");
        assert!(len <= dnp3::MAX_FRAME_LEN);
        if frame.header_crc_ok() && frame.data_crc_ok() {
            user.clear();
            frame.copy_user_data(&mut user);
            reencoded.clear();
            let h = frame.header;
            dnp3::encode_link(h.control, h.destination, h.source, &user, &mut reencoded)
                .expect("a parsed frame re-encodes");
            assert_eq!(reencoded.as_slice(), &input[..len], "link round trip");
        }
        if let Some(segment) = reassembler.push(&frame) {
            if let Some(fragment) = segment.fragment {
                assert!(fragment.len() <= dnp3::MAX_FRAGMENT_LEN);
                walk_fragment(fragment);
            }
        }
        assert!(reassembler.buffered() <= dnp3::MAX_FRAGMENT_LEN * dnp3::MAX_REASSEMBLY_SLOTS);
        input = rest;
    }
});
