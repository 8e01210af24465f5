//! Unit tests for TPKT/COTP/S7comm/S7comm-plus over hand-built vectors
//! written from the layouts in `mod.rs`, field by field.

use rstest::rstest;

use super::*;
use crate::{DecodeError, Direction};

/// Wraps COTP bytes in a TPKT header (version 3, reserved 0, length incl. header).
fn tpkt(cotp: &[u8]) -> Vec<u8> {
    let len = u16::try_from(cotp.len() + 4).unwrap();
    let mut v = vec![0x03, 0x00];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(cotp);
    v
}

/// A TPKT packet carrying a class 0 COTP DT with EOT set and `user` as user data.
fn dt(user: &[u8]) -> Vec<u8> {
    let mut c = vec![
        0x02, // COTP length indicator: 2
        0xf0, // DT
        0x80, // EOT, TPDU number 0
    ];
    c.extend_from_slice(user);
    tpkt(&c)
}

/// The single check helper: parses one packet, which must consume the input.
fn check(input: &[u8]) -> Tpdu<'_> {
    let (rest, t) = parse(input, Direction::ToServer).expect("parses");
    assert!(rest.is_empty(), "left over: {rest:02x?}");
    t
}

/// Parses a DT packet and returns its S7 PDU.
fn s7(input: &[u8]) -> Pdu<'_> {
    match check(input).payload {
        Payload::S7(p) => p,
        other => panic!("not S7: {other:?}"),
    }
}

// A Job header: protocol id, ROSCTR, redundancy id, PDU ref, param len, data len.
fn job_header(pdu_ref: u16, param_len: u16, data_len: u16) -> Vec<u8> {
    let mut v = vec![0x32, 0x01, 0x00, 0x00];
    v.extend_from_slice(&pdu_ref.to_be_bytes());
    v.extend_from_slice(&param_len.to_be_bytes());
    v.extend_from_slice(&data_len.to_be_bytes());
    v
}

// An Ack_Data header with error class/code.
fn ack_data_header(pdu_ref: u16, param_len: u16, data_len: u16, class: u8, code: u8) -> Vec<u8> {
    let mut v = vec![0x32, 0x03, 0x00, 0x00];
    v.extend_from_slice(&pdu_ref.to_be_bytes());
    v.extend_from_slice(&param_len.to_be_bytes());
    v.extend_from_slice(&data_len.to_be_bytes());
    v.extend_from_slice(&[class, code]);
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[rstest]
#[case::empty(&[], Err(DecodeError::incomplete(4)))]
#[case::three_bytes(&[0x03, 0x00, 0x00], Err(DecodeError::incomplete(1)))]
#[case::wrong_version(&[0x04, 0x00, 0x00, 0x16], Err(DecodeError::Malformed("not TPKT version 3")))]
#[case::length_below_minimum(&[0x03, 0x00, 0x00, 0x06], Err(DecodeError::Malformed("TPKT length below minimum")))]
#[case::header_only_is_enough(&[0x03, 0x00, 0x00, 0x16], Ok(22))]
#[case::max_length(&[0x03, 0x00, 0xff, 0xff, 0x02], Ok(65535))]
fn pdu_len_frames_on_tpkt_length(
    #[case] input: &[u8],
    #[case] expected: Result<usize, DecodeError>,
) {
    assert_eq!(pdu_len(input), expected);
}

#[rstest]
#[case::dt_with_s7(dt(&job_header(1, 0, 0)), true)]
#[case::dt_with_s7plus(dt(&[0x72, 0x01, 0x00, 0x00]), true)]
#[case::connect_request(tpkt(&[
    0x06, // LI
    0xe0, // CR, credit 0
    0x00, 0x00, // dst ref
    0x00, 0x01, // src ref
    0x00, // class 0
]), true)]
#[case::dt_with_other_payload(dt(b"GET / HTTP/1.1"), false)]
#[case::http(b"GET / HTTP/1.1\r\n".to_vec(), false)]
#[case::tpkt_reserved_nonzero(vec![0x03, 0x01, 0x00, 0x0a, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00], false)]
#[case::li_past_packet(vec![0x03, 0x00, 0x00, 0x07, 0x09, 0xf0, 0x80], false)]
#[case::truncated_before_payload(vec![0x03, 0x00, 0x00, 0x16, 0x02, 0xf0, 0x80], false)]
#[case::ack_tpdu(tpkt(&[0x02, 0x60, 0x00]), false)]
#[case::empty(Vec::new(), false)]
fn probe_claims_only_iso_on_tcp_with_s7(#[case] input: Vec<u8>, #[case] expected: bool) {
    assert_eq!(probe(&input), expected);
}

#[test]
fn connect_request_exposes_tsaps_and_tpdu_size() {
    let input = tpkt(&[
        0x11, // LI 17
        0xe0, // CR
        0x00, 0x00, // dst ref
        0x00, 0x05, // src ref
        0x00, // class 0, no options
        0xc0, 0x01, 0x0a, // TPDU size 2^10
        0xc1, 0x02, 0x01, 0x00, // calling TSAP: PG, rack 0 slot 0
        0xc2, 0x02, 0x01, 0x02, // called TSAP: PG, rack 0 slot 2
    ]);
    let t = check(&input);
    assert_eq!(t.cotp.pdu_type, CotpPduType::CR);
    assert_eq!(t.payload, Payload::None);
    assert!(t.anomalies.is_empty());
    let CotpKind::Connect(c) = &t.cotp.kind else { panic!("not a connect: {:?}", t.cotp.kind) };
    assert_eq!((c.dst_ref, c.src_ref, c.class_option), (0, 5, 0));
    assert_eq!(c.tpdu_size, Some(0x0a));
    assert_eq!(c.calling_tsap, Some(&[0x01, 0x00][..]));
    assert_eq!(c.called_tsap, Some(&[0x01, 0x02][..]));
    let tsap = S7Tsap::from_bytes(c.called_tsap.unwrap()).unwrap();
    assert_eq!(tsap, S7Tsap { connection_type: 1, rack: 0, slot: 2 });
    assert_eq!(
        S7Tsap::from_bytes(&[0x03, 0x43]),
        Some(S7Tsap { connection_type: 3, rack: 2, slot: 3 })
    );
}

#[test]
fn disconnect_request_has_reason() {
    let input = tpkt(&[
        0x06, // LI
        0x80, // DR
        0x00, 0x05, // dst ref
        0x00, 0x01, // src ref
        0x80, // reason: normal disconnect
    ]);
    let t = check(&input);
    assert_eq!(t.cotp.kind, CotpKind::Disconnect { dst_ref: 5, src_ref: 1, reason: Some(0x80) });
}

#[test]
fn setup_communication_job() {
    let pdu = cat(&[
        &job_header(0x0100, 8, 0),
        &[
            0xf0, // function: Setup communication
            0x00, // reserved
            0x00, 0x01, // max AmQ calling
            0x00, 0x01, // max AmQ called
            0x01, 0xe0, // PDU length 480
        ],
    ]);
    let input = dt(&pdu);
    let p = s7(&input);
    assert_eq!(p.header.rosctr, Rosctr::JOB);
    assert_eq!(p.header.pdu_ref, 0x0100);
    assert_eq!(p.header.error_class, None);
    assert_eq!(p.function(), Some(Function::SETUP_COMMUNICATION));
    let Param::Function(FunctionParam { detail: FunctionDetail::Setup(s), .. }) = &p.param else {
        panic!("{:?}", p.param)
    };
    assert_eq!(
        *s,
        SetupCommunication { reserved: 0, max_amq_calling: 1, max_amq_called: 1, pdu_length: 480 }
    );
    assert!(p.anomalies.is_empty());
}

/// A Read Var job reading DB1.DBW4 (2 bytes) and M10.3 (1 bit).
fn read_var_job() -> Vec<u8> {
    cat(&[
        &job_header(0x0200, 26, 0),
        &[
            0x04, // function: Read Var
            0x02, // item count
            // item 1
            0x12, // variable specification
            0x0a, // length of following address specification
            0x10, // syntax id: S7ANY
            0x02, // transport size: BYTE
            0x00, 0x02, // length: 2
            0x00, 0x01, // DB number 1
            0x84, // area: DB
            0x00, 0x00, 0x20, // address: byte 4, bit 0 (4 << 3)
            // item 2
            0x12, 0x0a, 0x10, //
            0x01, // transport size: BIT
            0x00, 0x01, // length 1
            0x00, 0x00, // DB 0
            0x83, // area: flags (M)
            0x00, 0x00, 0x53, // address: byte 10, bit 3 ((10 << 3) | 3)
        ],
    ])
}

#[test]
fn read_var_job_decodes_s7any_addresses() {
    let input = dt(&read_var_job());
    let p = s7(&input);
    let Param::Function(FunctionParam { function, detail: FunctionDetail::Variables(v) }) =
        &p.param
    else {
        panic!("{:?}", p.param)
    };
    assert_eq!(*function, Function::READ_VAR);
    assert_eq!(v.item_count, 2);
    assert_eq!(
        v.items,
        vec![
            VarItem::Any(AnyAddress {
                transport_size: TransportSize::BYTE,
                length: 2,
                db_number: 1,
                area: Area::DATA_BLOCKS,
                byte_address: 4,
                bit_address: 0,
            }),
            VarItem::Any(AnyAddress {
                transport_size: TransportSize::BIT,
                length: 1,
                db_number: 0,
                area: Area::FLAGS,
                byte_address: 10,
                bit_address: 3,
            }),
        ]
    );
    assert!(p.anomalies.is_empty(), "{:?}", p.anomalies.names().collect::<Vec<_>>());
}

#[test]
fn read_var_ack_data_decodes_values_with_fill_byte() {
    let pdu = cat(&[
        &ack_data_header(0x0200, 2, 11, 0, 0),
        &[
            0x04, // function: Read Var
            0x02, // item count
        ],
        &[
            // item 1
            0xff, // return code: success
            0x03, // transport size: BIT (length in bits)
            0x00, 0x01, // length: 1 bit
            0x01, // value
            0x00, // fill byte (odd length, not the last item)
            // item 2
            0x0a, // return code: object does not exist
            0x00, // transport size: NULL
            0x00, 0x00, // length 0
            0x00, // stray byte: item count mismatch
        ],
    ]);
    let input = dt(&pdu);
    let p = s7(&input);
    assert_eq!(p.header.error_class, Some(ErrorClass::NO_ERROR));
    let Param::Function(FunctionParam { detail: FunctionDetail::Variables(v), .. }) = &p.param
    else {
        panic!("{:?}", p.param)
    };
    assert_eq!(v.items, vec![]);
    assert_eq!(
        v.data_items,
        vec![
            DataItem {
                return_code: ReturnCode::SUCCESS,
                transport_size: DataTransportSize::BIT,
                length: 1,
                value: &[0x01],
            },
            DataItem {
                return_code: ReturnCode::OBJECT_DOES_NOT_EXIST,
                transport_size: DataTransportSize::NULL,
                length: 0,
                value: &[],
            },
        ]
    );
    assert_eq!(p.anomalies, Anomalies::ITEM_COUNT_MISMATCH);
}

#[test]
fn write_var_job_and_ack() {
    let job = cat(&[
        &job_header(7, 14, 6),
        &[
            0x05, // function: Write Var
            0x01, // item count
            0x12, 0x0a, 0x10, // var spec, length 10, S7ANY
            0x02, // BYTE
            0x00, 0x02, // 2 elements
            0x00, 0x00, // DB 0
            0x82, // outputs (Q)
            0x00, 0x00, 0x00, // Q0.0
        ],
        &[
            0x00, // return code: reserved (requests)
            0x04, // transport size: BYTE/WORD/DWORD (bits)
            0x00, 0x10, // 16 bits
            0xbe, 0xef, // value
        ],
    ]);
    let input = dt(&job);
    let p = s7(&input);
    let Param::Function(FunctionParam { detail: FunctionDetail::Variables(v), .. }) = &p.param
    else {
        panic!("{:?}", p.param)
    };
    assert!(matches!(
        v.items[..],
        [VarItem::Any(AnyAddress { area: Area::OUTPUTS, length: 2, .. })]
    ));
    assert_eq!(v.data_items.len(), 1);
    assert_eq!(v.data_items[0].value, &[0xbe, 0xef]);
    assert!(p.anomalies.is_empty());

    let ack = cat(&[
        &ack_data_header(7, 2, 1, 0, 0),
        &[0x05, 0x01], // Write Var, 1 item
        &[0x05],       // return code: invalid address
    ]);
    let input = dt(&ack);
    let p = s7(&input);
    let Param::Function(FunctionParam { detail: FunctionDetail::Variables(v), .. }) = &p.param
    else {
        panic!("{:?}", p.param)
    };
    assert_eq!(v.write_results, vec![ReturnCode::INVALID_ADDRESS]);
}

#[test]
fn request_download_carries_block_name_and_lengths() {
    let param: &[u8] = &[
        0x1a, // function: Request download
        0x00, // function status
        0x01, 0x00, // unknown
        0x00, 0x00, 0x00, 0x00, // session id
        0x09, // file name length
        b'_', b'0', b'A', b'0', b'0', b'0', b'0', b'1', b'P', // _0A00001P: DB 1, passive
        0x0d, // length of part 2
        b'1', // unknown char
        b'0', b'0', b'0', b'5', b'0', b'0', // load memory length 500
        b'0', b'0', b'0', b'4', b'0', b'0', // MC7 length 400
    ];
    let pdu = cat(&[&job_header(0x0e00, param.len() as u16, 0), param]);
    let input = dt(&pdu);
    let p = s7(&input);
    let Param::Function(FunctionParam { function, detail: FunctionDetail::Block(b) }) = &p.param
    else {
        panic!("{:?}", p.param)
    };
    assert!(function.is_download());
    assert_eq!(b.filename, Some(&b"_0A00001P"[..]));
    assert_eq!(b.block, Some(BlockName { block_type: BlockType::DB, number: 1, filesystem: b'P' }));
    assert_eq!((b.load_memory_length, b.mc7_length), (Some(500), Some(400)));
    assert!(p.anomalies.is_empty());
}

#[test]
fn start_upload_ack_carries_block_length() {
    let param: &[u8] = &[
        0x1d, // function: Start upload
        0x00, // function status
        0x01, 0x00, // unknown
        0x00, 0x00, 0x00, 0x07, // session id 7
        0x07, // length of the block length string
        b'0', b'0', b'0', b'0', b'1', b'2', b'8', // 128 bytes
    ];
    let pdu = cat(&[&ack_data_header(3, param.len() as u16, 0, 0, 0), param]);
    let input = dt(&pdu);
    let p = s7(&input);
    let Param::Function(FunctionParam { detail: FunctionDetail::Block(b), .. }) = &p.param else {
        panic!("{:?}", p.param)
    };
    assert_eq!((b.session_id, b.block_length, b.filename), (Some(7), Some(128), None));
}

#[rstest]
#[case::with_underscore(b"_0800001A", Some(BlockName { block_type: BlockType::OB, number: 1, filesystem: b'A' }))]
#[case::pi_form(b"0E00042B", Some(BlockName { block_type: BlockType::FB, number: 42, filesystem: b'B' }))]
#[case::bad_hex(b"_0Z00001P", None)]
#[case::bad_number(b"_0A0x001P", None)]
#[case::too_short(b"_0A0001P", None)]
#[case::empty(b"", None)]
fn block_names(#[case] name: &[u8], #[case] expected: Option<BlockName>) {
    assert_eq!(block_name(name), expected);
}

#[test]
fn pi_service_insert_lists_blocks() {
    let param: &[u8] = &[
        0x28, // function: PI-Service
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, // unknown
        0x00, 0x0a, // parameter block length 10
        0x01, // number of blocks
        0x00, // reserved
        b'0', b'A', b'0', b'0', b'0', b'0', b'1', b'P', // DB 1, passive
        0x05, // service name length
        b'_', b'I', b'N', b'S', b'E', // _INSE
    ];
    let pdu = cat(&[&job_header(0x0f00, param.len() as u16, 0), param]);
    let input = dt(&pdu);
    let p = s7(&input);
    let Param::Function(FunctionParam { detail: FunctionDetail::Pi(pi), .. }) = &p.param else {
        panic!("{:?}", p.param)
    };
    assert_eq!(pi.service, b"_INSE");
    assert_eq!(pi_service_description(pi.service), Some("Activates a PLC module (insert block)"));
    assert_eq!(
        pi.blocks,
        vec![(
            &b"0A00001P"[..],
            Some(BlockName { block_type: BlockType::DB, number: 1, filesystem: b'P' })
        )]
    );
    assert!(p.anomalies.is_empty());
}

#[test]
fn plc_stop_names_its_service() {
    let param: &[u8] = &[
        0x29, // function: PLC Stop
        0x00, 0x00, 0x00, 0x00, 0x00, // unknown
        0x09, // service name length
        b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M',
    ];
    let pdu = cat(&[&job_header(0x3500, param.len() as u16, 0), param]);
    let input = dt(&pdu);
    let p = s7(&input);
    assert_eq!(p.function(), Some(Function::PLC_STOP));
    let Param::Function(FunctionParam { detail: FunctionDetail::Pi(pi), .. }) = &p.param else {
        panic!("{:?}", p.param)
    };
    assert_eq!(pi.service, b"P_PROGRAM");
    assert!(pi.blocks.is_empty());
}

/// A userdata header: protocol id, ROSCTR 7, redundancy, PDU ref, param len, data len.
fn userdata_header(param_len: u16, data_len: u16) -> Vec<u8> {
    let mut v = vec![0x32, 0x07, 0x00, 0x00, 0x00, 0x01];
    v.extend_from_slice(&param_len.to_be_bytes());
    v.extend_from_slice(&data_len.to_be_bytes());
    v
}

#[test]
fn userdata_read_szl_request() {
    let pdu = cat(&[
        &userdata_header(8, 8),
        &[
            0x00, 0x01, 0x12, // parameter head
            0x04, // parameter length
            0x11, // method: request
            0x44, // type 4 (request), group 4 (CPU functions)
            0x01, // subfunction: read SZL
            0x00, // sequence number
        ],
        &[
            0xff, // return code: success
            0x09, // transport size: octet string
            0x00, 0x04, // length
            0x00, 0x11, // SZL id: module identification
            0x00, 0x01, // SZL index
        ],
    ]);
    let input = dt(&pdu);
    let p = s7(&input);
    let ud = p.userdata().unwrap();
    assert_eq!(
        (ud.kind, ud.group, ud.subfunction),
        (UserdataType::REQUEST, FunctionGroup::CPU_FUNCTIONS, 1)
    );
    assert_eq!(ud.szl(), Some(&Szl { id: SZL_MODULE_IDENTIFICATION, index: 1, list: None }));
    assert_eq!(subfunction_name(ud.group, ud.subfunction), Some("Read SZL"));
    assert!(p.anomalies.is_empty());
}

#[test]
fn userdata_szl_0011_response_gives_order_number_and_firmware() {
    let mut record1 = vec![0x00, 0x01]; // index 1: module
    record1.extend_from_slice(b"6ES7 315-2EH14-0AB0 "); // order number, 20 chars
    record1.extend_from_slice(&[0x00, 0xc0]); // module type
    record1.extend_from_slice(&[0x00, 0x01, 0x00, 0x01]); // hardware version
    let mut record2 = vec![0x00, 0x07]; // index 7: basic firmware
    record2.extend_from_slice(b"6ES7 315-2EH14-0AB0 ");
    record2.extend_from_slice(&[0x00, 0xc0]);
    record2.extend_from_slice(&[b'V', 0x03, 0x02, 0x06]); // V3.2.6
    let szl = cat(&[
        &[
            0x00, 0x11, // SZL id
            0x00, 0x00, // SZL index
            0x00, 0x1c, // record length 28
            0x00, 0x02, // record count
        ],
        &record1,
        &record2,
    ]);
    let data = cat(&[&[0xff, 0x09], &(szl.len() as u16).to_be_bytes(), &szl]);
    let pdu = cat(&[
        &userdata_header(12, data.len() as u16),
        &[
            0x00, 0x01, 0x12, // parameter head
            0x08, // parameter length
            0x12, // method: response
            0x84, // type 8 (response), group 4
            0x01, // read SZL
            0x01, // sequence number
            0x00, // data unit reference
            0x00, // last data unit: yes
            0x00, 0x00, // error code
        ],
        &data,
    ]);
    let input = dt(&pdu);
    let p = s7(&input);
    let ud = p.userdata().unwrap();
    assert_eq!((ud.data_unit_ref, ud.last_data_unit, ud.error_code), (Some(0), Some(0), Some(0)));
    let list = ud.szl().unwrap().list.unwrap();
    let records: Vec<_> = list.records().filter_map(ModuleIdentification::from_record).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].order_number, b"6ES7 315-2EH14-0AB0 ");
    assert_eq!(records[1].index, 7);
    assert_eq!(records[1].version_triple(), Some((3, 2, 6)));
    assert!(p.anomalies.is_empty());
}

#[test]
fn component_identification_trims_padding() {
    let mut rec = vec![0x00, 0x05]; // index 5: serial number
    rec.extend_from_slice(b"S C-X4U421302009");
    rec.extend_from_slice(&[0u8; 16]);
    let c = ComponentIdentification::from_record(&rec).unwrap();
    assert_eq!((c.index, c.trimmed()), (5, &b"S C-X4U421302009"[..]));
}

#[test]
fn mode_transition_push_reports_cpu_mode() {
    let pdu = cat(&[
        &userdata_header(8, 0),
        &[
            0x01, 0x00, 0x10, // parameter head of a mode transition
            0x10, // "parameter length"
            0x00, // method
            0x00, // type 0 (push), group 0 (mode transition)
            0x00, // current mode: STOP
            0x00, // sequence number
        ],
    ]);
    let input = dt(&pdu);
    let p = s7(&input);
    let ud = p.userdata().unwrap();
    assert_eq!(ud.cpu_mode(), Some(CpuMode::STOP));
    assert!(p.anomalies.is_empty(), "mode transitions use their own header");
}

#[test]
fn password_and_set_clock_are_recognised() {
    let pw = cat(&[
        &userdata_header(8, 12),
        &[0x00, 0x01, 0x12, 0x04, 0x11, 0x45, 0x01, 0x00], // request, group 5 (security), subfunction 1
        &[0xff, 0x09, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8], // encoded password
    ]);
    let input = dt(&pw);
    assert!(s7(&input).userdata().unwrap().is_password());
    let clock = cat(&[
        &userdata_header(8, 4),
        &[0x00, 0x01, 0x12, 0x04, 0x11, 0x47, 0x02, 0x00], // request, group 7 (time), set clock
        &[0xff, 0x09, 0x00, 0x00],
    ]);
    let input = dt(&clock);
    assert!(s7(&input).userdata().unwrap().is_set_clock());
}

#[test]
fn userdata_fragments_read_szl_header_from_first_unit_only() {
    let frag = |last: u8| -> Vec<u8> {
        cat(&[
            &userdata_header(12, 12),
            &[0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x01, 0x05, last, 0x00, 0x00],
            &[0xff, 0x09, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        ])
    };
    let (first, second) = (dt(&frag(1)), dt(&frag(0)));
    let mut tracker = UserdataFragments::new();
    assert!(tracker.observe(s7(&first).userdata().unwrap()));
    assert!(!tracker.observe(s7(&second).userdata().unwrap()));
    assert!(tracker.observe(s7(&first).userdata().unwrap()));
}

#[test]
fn ack_with_error_class() {
    let pdu = cat(&[&[0x32, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00], &[0x81, 0x04]]);
    let input = dt(&pdu);
    let p = s7(&input);
    assert_eq!(p.header.rosctr, Rosctr::ACK);
    assert!(p.header.is_error());
    assert_eq!(p.header.error_class, Some(ErrorClass::APPLICATION_RELATIONSHIP));
    assert_eq!(p.header.error_code, Some(0x04));
    assert_eq!(p.param, Param::None);
}

#[test]
fn s7comm_plus_request_gives_version_opcode_function() {
    let mut body = vec![0x20]; // digest length 32
    body.extend_from_slice(&[0xaa; 32]); // digest
    body.extend_from_slice(&[
        0x31, // opcode: request
        0x00, 0x00, // reserved
        0x05, 0x42, // function: SetMultiVariables
        0x00, 0x00, // reserved
        0x00, 0x2a, // sequence number 42
        0x70, 0x00, 0x0e, 0x4d, // session id
        0x34, // transport flags
    ]);
    let pdu = cat(&[
        &[0x72, 0x03], // protocol id, version 3
        &(body.len() as u16).to_be_bytes(),
        &body,
        &[0x72, 0x03, 0x00, 0x00], // trailer
    ]);
    let input = dt(&pdu);
    let Payload::S7Plus(p) = check(&input).payload else { panic!() };
    assert_eq!(p.version, PlusVersion::V3);
    assert_eq!(p.digest, Some(&[0xaa; 32][..]));
    assert_eq!(p.opcode, Some(PlusOpcode::REQUEST));
    assert_eq!(p.function, Some(PlusFunction::SET_MULTI_VARIABLES));
    assert!(p.function.unwrap().is_write());
    assert_eq!((p.sequence, p.session_id, p.has_trailer), (Some(42), Some(0x7000_0e4d), true));
    assert!(p.anomalies.is_empty());
}

#[rstest]
#[case::v1_response(&[0x72, 0x01, 0x00, 0x09, 0x32, 0x00, 0x00, 0x04, 0xbb, 0x00, 0x00, 0x00, 0x01], Some(PlusOpcode::RESPONSE), Some(PlusFunction::EXPLORE), Anomalies::NONE)]
#[case::unknown_opcode(&[0x72, 0x01, 0x00, 0x01, 0x99], Some(PlusOpcode(0x99)), None, Anomalies::PLUS_UNKNOWN_OPCODE)]
#[case::length_overrun(&[0x72, 0x01, 0x00, 0x40, 0x33], Some(PlusOpcode::NOTIFICATION), None, Anomalies::PLUS_INVALID_LENGTH)]
#[case::unknown_version(&[0x72, 0x07, 0x00, 0x00], None, None, Anomalies::PLUS_UNKNOWN_VERSION)]
fn s7comm_plus_cases(
    #[case] pdu: &[u8],
    #[case] opcode: Option<PlusOpcode>,
    #[case] function: Option<PlusFunction>,
    #[case] anomalies: Anomalies,
) {
    let p = parse_plus(pdu).unwrap();
    assert_eq!((p.opcode, p.function, p.anomalies), (opcode, function, anomalies));
}

/// Framable-but-wrong S7 PDUs: the expected anomaly flags, exactly.
#[rstest]
#[case::param_length_overrun(
    cat(&[&job_header(1, 30, 0), &[0xf0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xe0]]),
    Anomalies::INVALID_LENGTH
)]
#[case::unknown_rosctr(
    vec![0x32, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xaa],
    Anomalies::UNKNOWN_ROSCTR
)]
#[case::unknown_function(cat(&[&job_header(1, 1, 0), &[0x77]]), Anomalies::UNKNOWN_FUNCTION)]
#[case::reserved_nonzero(
    vec![0x32, 0x01, 0x12, 0x34, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
    Anomalies::RESERVED_NONZERO
)]
#[case::trailing_bytes(cat(&[&job_header(1, 0, 0), &[0xde, 0xad]]), Anomalies::TRAILING_BYTES)]
#[case::item_count_too_high(
    cat(&[&job_header(1, 14, 0), &[0x04, 0x02, 0x12, 0x0a, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00]]),
    Anomalies::ITEM_COUNT_MISMATCH
)]
#[case::bad_var_spec(
    cat(&[&job_header(1, 14, 0), &[0x04, 0x01, 0x11, 0x0a, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00]]),
    Anomalies::INVALID_ITEM
)]
#[case::truncated_setup(cat(&[&job_header(1, 3, 0), &[0xf0, 0x00, 0x00]]), Anomalies::TRUNCATED_PARAMETER)]
#[case::bad_block_name(
    cat(&[&job_header(1, 18, 0), &[0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x09, b'_', b'Z', b'Z', b'0', b'0', b'0', b'0', b'1', b'A']]),
    Anomalies::INVALID_BLOCK_NAME
)]
#[case::userdata_bad_head(
    cat(&[&userdata_header(8, 0), &[0x00, 0x02, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00]]),
    Anomalies::USERDATA_INVALID_HEADER
)]
#[case::szl_request_too_short(
    cat(&[&userdata_header(8, 6), &[0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00], &[0xff, 0x09, 0x00, 0x02, 0x00, 0x11]]),
    Anomalies::INVALID_SZL
)]
#[case::null_item_with_length(
    cat(&[&ack_data_header(1, 2, 4, 0, 0), &[0x04, 0x01], &[0x0a, 0x00, 0x00, 0x04]]),
    Anomalies::INVALID_ITEM
)]
fn framable_but_wrong_pdus_are_flagged(#[case] pdu: Vec<u8>, #[case] expected: Anomalies) {
    let input = dt(&pdu);
    let p = s7(&input);
    assert_eq!(p.anomalies, expected, "got {:?}", p.anomalies.names().collect::<Vec<_>>());
}

#[test]
fn too_many_items_are_capped() {
    let mut param = vec![0x04, 0xff]; // Read Var, 255 items
    for _ in 0..255 {
        param.extend_from_slice(&[
            0x12, 0x0a, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00,
        ]);
    }
    let pdu = cat(&[&job_header(1, param.len() as u16, 0), &param]);
    let input = dt(&pdu);
    let p = s7(&input);
    let Param::Function(FunctionParam { detail: FunctionDetail::Variables(v), .. }) = &p.param
    else {
        panic!()
    };
    assert_eq!(v.items.len(), MAX_ITEMS);
    assert!(p.anomalies.contains(Anomalies::TOO_MANY_ITEMS));
}

#[rstest]
#[case::unknown_cotp_type(tpkt(&[0x02, 0x30, 0x00]), Anomalies::COTP_UNKNOWN_PDU_TYPE)]
#[case::tpkt_reserved(vec![0x03, 0x07, 0x00, 0x07, 0x02, 0xf0, 0x80], Anomalies::TPKT_RESERVED_NONZERO)]
#[case::dt_bad_li(tpkt(&[0x03, 0xf0, 0x00, 0x80]), Anomalies::COTP_INVALID_LENGTH)]
#[case::cr_too_short(tpkt(&[0x03, 0xe0, 0x00, 0x00]), Anomalies::COTP_INVALID_LENGTH)]
#[case::cr_param_overrun(tpkt(&[0x08, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xc1, 0x05]), Anomalies::COTP_INVALID_PARAMETER)]
#[case::unknown_payload(dt(&[0x99, 0x01, 0x02]), Anomalies::UNKNOWN_PAYLOAD)]
#[case::s7_header_truncated(dt(&[0x32, 0x01, 0x00]), Anomalies::UNKNOWN_PAYLOAD)]
fn cotp_level_anomalies(#[case] input: Vec<u8>, #[case] expected: Anomalies) {
    assert_eq!(check(&input).all_anomalies(), expected);
}

#[rstest]
#[case::li_zero(vec![0x03, 0x00, 0x00, 0x07, 0x00, 0xf0, 0x80], "COTP length indicator outside the TPKT packet")]
#[case::li_past_end(vec![0x03, 0x00, 0x00, 0x07, 0x05, 0xf0, 0x80], "COTP length indicator outside the TPKT packet")]
fn unframable_cotp_is_malformed(#[case] input: Vec<u8>, #[case] why: &'static str) {
    assert_eq!(parse(&input, Direction::ToClient).map(|_| ()), Err(DecodeError::Malformed(why)));
}

#[test]
fn truncated_packet_is_incomplete_and_two_packets_split() {
    let one = dt(&read_var_job());
    assert_eq!(
        parse(&one[..one.len() - 3], Direction::ToServer).map(|_| ()),
        Err(DecodeError::incomplete(3))
    );
    let two = cat(&[&one, &dt(&job_header(2, 0, 0))]);
    let (rest, first) = parse(&two, Direction::ToServer).unwrap();
    assert_eq!(first.tpkt_length as usize, one.len());
    let (rest, second) = parse(rest, Direction::ToServer).unwrap();
    assert!(rest.is_empty());
    let Payload::S7(p) = second.payload else { panic!() };
    assert_eq!(p.header.pdu_ref, 2);
}

#[test]
fn segmented_tsdu_is_reassembled() {
    let pdu = read_var_job();
    let (a, b) = pdu.split_at(10);
    let seg = |eot: bool, part: &[u8]| {
        let mut c = vec![0x02, 0xf0, if eot { 0x81 } else { 0x00 }];
        c.extend_from_slice(part);
        tpkt(&c)
    };
    let (first, last) = (seg(false, a), seg(true, b));
    let t1 = check(&first);
    assert_eq!(t1.payload, Payload::Segment(a));
    let mut re = CotpReassembler::new();
    assert_eq!(re.push(false, t1.cotp.user_data), Reassembly::Pending);
    assert!(re.is_pending());
    let t2 = check(&last);
    assert!(matches!(t2.cotp.kind, CotpKind::Data { eot: true, tpdu_number: 1 }));
    let Reassembly::Complete(whole) = re.push(true, t2.cotp.user_data) else { panic!() };
    assert_eq!(whole, &pdu[..]);
    let Payload::S7(p) = parse_payload(whole) else { panic!() };
    assert_eq!(p.function(), Some(Function::READ_VAR));
    assert!(!re.is_pending());
    // Unsegmented data passes through untouched; an empty non-EOT DT starts nothing.
    assert_eq!(re.push(true, b"\x32"), Reassembly::Complete(b"\x32"));
    assert_eq!(re.push(false, b""), Reassembly::Pending);
    assert!(!re.is_pending());
}

#[test]
fn reassembly_overflow_drops_the_tsdu() {
    let mut re = CotpReassembler::new();
    let chunk = vec![0u8; MAX_TSDU_BYTES / 2 + 1];
    assert_eq!(re.push(false, &chunk), Reassembly::Pending);
    assert_eq!(re.push(false, &chunk), Reassembly::Dropped);
    assert_eq!(re.buffered(), 0);
    assert_eq!(re.push(true, &chunk), Reassembly::Dropped);
    assert!(!re.is_pending());
    assert_eq!(re.push(true, b"ok"), Reassembly::Complete(b"ok"));
    let mut re = CotpReassembler::new();
    for _ in 0..MAX_SEGMENTS {
        assert_eq!(re.push(false, b"x"), Reassembly::Pending);
    }
    assert_eq!(re.push(false, b"x"), Reassembly::Dropped);
}

#[test]
fn empty_dt_without_eot_is_not_a_segment() {
    let input = tpkt(&[0x02, 0xf0, 0x00]);
    let t = check(&input);
    assert_eq!(t.payload, Payload::None);
    assert!(t.all_anomalies().is_empty());
}

#[test]
fn every_prefix_and_corruption_of_valid_packets_is_safe() {
    let samples = [dt(&read_var_job()), tpkt(&[0x06, 0xe0, 0, 0, 0, 1, 0])];
    for s in &samples {
        for n in 0..=s.len() {
            let _ = parse(&s[..n], Direction::ToServer);
            let _ = probe(&s[..n]);
            let _ = parse_payload(s.get(7..n).unwrap_or(&[]));
        }
        for i in 0..s.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut m = s.clone();
                m[i] = v;
                let _ = parse(&m, Direction::ToClient);
                let _ = parse_payload(m.get(7..).unwrap_or(&[]));
            }
        }
    }
}

#[test]
fn names_are_stable() {
    assert_eq!(Function::PLC_STOP.name(), Some("PLC Stop"));
    assert_eq!(Function(0x77).name(), None);
    assert_eq!(Function(0x77).to_string(), "unknown (0x77)");
    assert_eq!(Rosctr::ACK_DATA.to_string(), "Ack_Data");
    assert_eq!(
        (Anomalies::INVALID_LENGTH | Anomalies::UNKNOWN_FUNCTION).names().collect::<Vec<_>>(),
        vec!["s7comm.invalid_length", "s7comm.unknown_function"]
    );
    assert!(Anomalies::all_names().all(|n| n.starts_with("s7comm.")));
    assert_eq!(Anomalies::all_names().count(), 23);
}

#[test]
fn szl_list_with_zero_record_length_yields_no_records() {
    let list = SzlList { record_len: 0, record_count: 3, records: &[1, 2, 3] };
    assert_eq!(list.records().count(), 0);
    let list = SzlList { record_len: 2, record_count: 2, records: &[1, 2, 3] };
    assert_eq!(list.records().collect::<Vec<_>>(), vec![&[1u8, 2][..]]);
    assert_eq!(ModuleIdentification::from_record(&[0; 27]), None);
    assert_eq!(ComponentIdentification::from_record(&[0]), None);
}

#[test]
fn ack_data_of_failed_job_has_header_error_and_function() {
    let pdu = cat(&[
        &ack_data_header(0x0a00, 2, 0, 0xd2, 0x41), // error class 0xd2 (not standard), code 0x41
        &[0x1d, 0x00],                              // Start upload, function status
    ]);
    let input = dt(&pdu);
    let p = s7(&input);
    assert_eq!((p.header.error_class, p.header.error_code), (Some(ErrorClass(0xd2)), Some(0x41)));
    assert!(p.header.is_error());
    assert_eq!(p.function(), Some(Function::START_UPLOAD));
    assert_eq!(p.anomalies, Anomalies::NONE);
}
