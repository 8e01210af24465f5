//! Unit tests: hand-built frames, commented field by field.

use super::*;

/// Ethernet II header: dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb, then `ether_type`.
fn eth(ether_type: [u8; 2]) -> Vec<u8> {
    let mut v = vec![0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];
    v.extend_from_slice(&ether_type);
    v
}

/// IPv4 header, no options, 10.0.0.1 -> 10.0.0.2, with the given protocol,
/// payload length, identification and flags/fragment-offset word.
fn ipv4(proto: u8, payload_len: u16, id: u16, frag_word: u16) -> Vec<u8> {
    let total = 20 + payload_len;
    let mut v = vec![
        0x45, 0x00, // version 4, IHL 5; DSCP/ECN 0
    ];
    v.extend_from_slice(&total.to_be_bytes()); // total length
    v.extend_from_slice(&id.to_be_bytes()); // identification
    v.extend_from_slice(&frag_word.to_be_bytes()); // flags + fragment offset (8-byte units)
    v.extend_from_slice(&[
        64, proto, // TTL 64, protocol
        0x00, 0x00, // header checksum (not checked)
        10, 0, 0, 1, // source
        10, 0, 0, 2, // destination
    ]);
    v
}

/// TCP header, 20 bytes: ports 49152 -> 502, seq 1000, ack 2000, flags PSH|ACK.
fn tcp_502() -> Vec<u8> {
    vec![
        0xc0, 0x00, // source port 49152
        0x01, 0xf6, // destination port 502
        0x00, 0x00, 0x03, 0xe8, // sequence number 1000
        0x00, 0x00, 0x07, 0xd0, // acknowledgement number 2000
        0x50, 0x18, // data offset 5 words; flags PSH|ACK
        0xff, 0xff, // window
        0x00, 0x00, 0x00, 0x00, // checksum, urgent pointer
    ]
}

/// UDP header for 47808 -> 47808 with `payload_len` bytes after it.
fn udp_bacnet(payload_len: u16) -> Vec<u8> {
    let mut v = vec![0xba, 0xc0, 0xba, 0xc0]; // ports 47808 -> 47808
    v.extend_from_slice(&(8 + payload_len).to_be_bytes()); // length
    v.extend_from_slice(&[0x00, 0x00]); // checksum
    v
}

#[test]
fn ethernet_ipv4_tcp() {
    let mut f = eth([0x08, 0x00]);
    f.extend(ipv4(6, 24, 1, 0x4000)); // DF set
    f.extend(tcp_502());
    f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]); // 4 payload bytes
    f.extend_from_slice(&[0; 6]); // Ethernet padding, cut by the IP total length
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert!(fr.anomalies.is_empty(), "{:?}", fr.anomalies);
    assert_eq!(fr.src_mac().unwrap().to_string(), "66:77:88:99:aa:bb");
    assert_eq!(fr.dst_mac().unwrap().to_string(), "00:11:22:33:44:55");
    let ip = fr.ip().unwrap();
    assert_eq!(ip.src.to_string(), "10.0.0.1");
    assert_eq!(ip.protocol, 6);
    let t = fr.tcp().unwrap();
    assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (49152, 502, 1000, 2000));
    assert!(t.flags.ack() && !t.flags.syn());
    assert_eq!(t.payload, &[0xde, 0xad, 0xbe, 0xef]);
}

#[test]
fn qinq_vlan_ids_and_udp() {
    let mut f = eth([0x88, 0xa8]); // outer S-tag
    f.extend_from_slice(&[0x00, 0x64, 0x81, 0x00]); // PCP 0, VID 100; inner TPID 0x8100
    f.extend_from_slice(&[0x20, 0x0a, 0x08, 0x00]); // PCP 1, VID 10; EtherType IPv4
    f.extend(ipv4(17, 10, 2, 0));
    f.extend(udp_bacnet(2));
    f.extend_from_slice(&[0x81, 0x0b]); // BVLC type, function (truncated on purpose: it is payload)
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert_eq!(fr.vlan_ids.as_slice(), &[100, 10]);
    assert_eq!(fr.ether_type, Some(0x0800));
    let u = fr.udp().unwrap();
    assert_eq!((u.src_port, u.dst_port, u.payload), (47808, 47808, &[0x81, 0x0b][..]));
}

#[test]
fn too_many_vlan_tags_is_flagged() {
    let mut f = eth([0x81, 0x00]);
    for _ in 0..MAX_VLAN_TAGS {
        f.extend_from_slice(&[0x00, 0x01, 0x81, 0x00]); // VID 1, next TPID 0x8100 again
    }
    f.extend_from_slice(&[0x00, 0x01, 0x08, 0x00]);
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert!(fr.anomalies.contains(WireAnomalies::TOO_MANY_VLAN_TAGS));
    assert_eq!(fr.vlan_ids.as_slice().len(), MAX_VLAN_TAGS);
}

#[test]
fn arp_reply() {
    let mut f = eth([0x08, 0x06]);
    f.extend_from_slice(&[
        0x00, 0x01, // hardware type Ethernet
        0x08, 0x00, // protocol type IPv4
        6, 4, // address sizes
        0x00, 0x02, // operation: reply
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // sender MAC
        192, 168, 1, 10, // sender IP
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // target MAC
        192, 168, 1, 20, // target IP
    ]);
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    let Payload::Arp(a) = fr.payload else { panic!("{fr:?}") };
    assert_eq!(a.operation, 2);
    assert_eq!(a.sender_ip, Ipv4Addr::new(192, 168, 1, 10));
    assert_eq!(a.sender_mac.to_string(), "66:77:88:99:aa:bb");
    assert_eq!(a.target_ip, Ipv4Addr::new(192, 168, 1, 20));
}

#[test]
fn bacnet_over_llc() {
    let mut f = eth([0x00, 0x07]); // 802.3 length 7
    f.extend_from_slice(&[
        0x82, 0x82, 0x03, // DSAP BACnet, SSAP BACnet, control UI
        0x01, 0x20, 0xff, 0xff, // 4 bytes of NPDU
    ]);
    f.extend_from_slice(&[0; 10]); // padding to the Ethernet minimum
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    let Payload::Llc(l) = fr.payload else { panic!("{fr:?}") };
    assert_eq!((l.dsap, l.ssap, l.control), (0x82, 0x82, 0x03));
    assert_eq!(l.payload, &[0x01, 0x20, 0xff, 0xff]);
    assert_eq!(fr.ether_type, None);
}

#[test]
fn llc_with_wrong_length_is_flagged() {
    let mut f = eth([0x05, 0xdc]); // 802.3 length 1500, far more than present
    f.extend_from_slice(&[0x42, 0x42, 0x03, 0x00]); // STP LLC header + 1 byte
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert!(fr.anomalies.contains(WireAnomalies::MALFORMED_LLC));
    assert!(matches!(fr.payload, Payload::Llc(Llc { dsap: 0x42, .. })));
}

#[test]
fn linux_sll_ipv4() {
    let mut f = vec![
        0x00, 0x00, // packet type: to us
        0x00, 0x01, // ARPHRD_ETHER
        0x00, 0x06, // address length
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, // address (8 bytes, 6 valid)
        0x08, 0x00, // protocol IPv4
    ];
    f.extend(ipv4(6, 20, 3, 0));
    f.extend(tcp_502());
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::LINUX_SLL, &f, 0);
    assert_eq!(fr.src_mac().unwrap().to_string(), "66:77:88:99:aa:bb");
    assert_eq!(fr.dst_mac(), None);
    assert_eq!(fr.tcp().unwrap().dst_port, 502);
}

#[test]
fn bsd_loopback_both_byte_orders() {
    let mut body = ipv4(6, 20, 4, 0);
    body.extend(tcp_502());
    for hdr in [[2u8, 0, 0, 0], [0, 0, 0, 2]] {
        let mut f = hdr.to_vec(); // AF_INET little- then big-endian
        f.extend_from_slice(&body);
        let mut d = Decoder::new();
        let fr = d.decode(LinkType::NULL, &f, 0);
        assert_eq!(fr.link, Link::Loopback { family: 2 });
        assert_eq!(fr.tcp().unwrap().src_port, 49152);
    }
}

#[test]
fn raw_ipv6_icmpv6() {
    let mut f = vec![
        0x60, 0x00, 0x00, 0x00, // version 6, traffic class, flow label
        0x00, 0x08, // payload length 8
        58, 255, // next header ICMPv6, hop limit
    ];
    f.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // source fe80::1
    f.extend_from_slice(&[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // destination ff02::1
    f.extend_from_slice(&[
        135, 0, // neighbor solicitation, code 0
        0x00, 0x00, 0, 0, 0, 0, // checksum, reserved
    ]);
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::RAW, &f, 0);
    let ip = fr.ip().unwrap();
    assert_eq!(ip.src.to_string(), "fe80::1");
    assert_eq!(ip.dst.to_string(), "ff02::1");
    assert_eq!(ip.transport, Transport::Icmpv6 { icmp_type: 135, code: 0 });
}

#[test]
fn ipv4_fragments_are_reassembled() {
    // A UDP datagram of 8 + 16 bytes split into 16 + 8 bytes of IP payload.
    let mut whole = udp_bacnet(16);
    whole.extend_from_slice(&[0xab; 16]);
    let mut first = eth([0x08, 0x00]);
    first.extend(ipv4(17, 16, 77, 0x2000)); // MF set, offset 0
    first.extend_from_slice(&whole[..16]);
    let mut second = eth([0x08, 0x00]);
    second.extend(ipv4(17, 8, 77, 0x0002)); // MF clear, offset 2 (16 bytes)
    second.extend_from_slice(&whole[16..]);
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &first, 0);
    assert_eq!(fr.ip().unwrap().fragmentation, Fragmentation::Pending);
    assert_eq!(fr.ip().unwrap().transport, Transport::Fragment);
    let fr = d.decode(LinkType::ETHERNET, &second, 1);
    assert_eq!(fr.ip().unwrap().fragmentation, Fragmentation::Reassembled { fragments: 2 });
    assert_eq!(fr.udp().unwrap().payload, &[0xab; 16]);
    assert_eq!(d.pending_fragments(), 0);
}

#[test]
fn malformed_inputs_are_flagged_not_fatal() {
    let mut d = Decoder::new();
    // Bogus IP version 2 under EtherType IPv4.
    let mut f = eth([0x08, 0x00]);
    f.extend_from_slice(&[0x25, 0x00, 0x00, 0x34]);
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert!(fr.anomalies.contains(WireAnomalies::MALFORMED_IP));
    assert_eq!(fr.payload, Payload::None);
    assert!(fr.is_malformed());
    // IP total length larger than the frame: truncated, still decoded.
    let mut f = eth([0x08, 0x00]);
    f.extend(ipv4(6, 100, 5, 0));
    f.extend(tcp_502());
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert!(fr.anomalies.contains(WireAnomalies::TRUNCATED_IP));
    assert_eq!(fr.tcp().unwrap().dst_port, 502);
    // Short TCP header: flagged, the ports are kept.
    let mut f = eth([0x08, 0x00]);
    f.extend(ipv4(6, 4, 6, 0));
    f.extend_from_slice(&[0, 1, 0, 2]);
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert!(fr.anomalies.contains(WireAnomalies::MALFORMED_TRANSPORT));
    assert_eq!(fr.ip().unwrap().transport, Transport::PortsOnly { src_port: 1, dst_port: 2 });
    // Short link headers and an unknown link type.
    assert!(
        d.decode(LinkType::ETHERNET, &[0; 5], 0).anomalies.contains(WireAnomalies::TRUNCATED_LINK)
    );
    assert!(
        d.decode(LinkType::LINUX_SLL, &[0; 5], 0).anomalies.contains(WireAnomalies::TRUNCATED_LINK)
    );
    assert!(d.decode(LinkType::NULL, &[2], 0).anomalies.contains(WireAnomalies::TRUNCATED_LINK));
    assert!(
        d.decode(LinkType(147), &[1, 2, 3], 0)
            .anomalies
            .contains(WireAnomalies::UNSUPPORTED_LINK_TYPE)
    );
}

#[test]
fn mstp_is_handed_up_whole() {
    let f = [0x55, 0xff, 0x01, 0x05, 0x03, 0x00, 0x00, 0x8c]; // preamble, Poll For Master 3 -> 5, no data
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::BACNET_MSTP, &f, 0);
    assert_eq!(fr.payload, Payload::MsTp(&f));
    assert_eq!(fr.link, Link::MsTp);
}

#[test]
fn every_prefix_of_a_frame_decodes_without_panic() {
    let mut f = eth([0x81, 0x00]);
    f.extend_from_slice(&[0x00, 0x05, 0x08, 0x00]);
    f.extend(ipv4(6, 24, 9, 0));
    f.extend(tcp_502());
    f.extend_from_slice(&[1, 2, 3, 4]);
    let mut d = Decoder::new();
    for lt in [0, 1, 101, 113, 165] {
        for n in 0..=f.len() {
            let _ = d.decode(LinkType(lt), &f[..n], 0);
        }
    }
}

#[test]
fn cisco_isl_frames_show_the_encapsulated_frame() {
    let mut f = vec![
        0x01, 0x00, 0x0c, 0x00, 0x00, // ISL destination (40 bits)
        0x00, // type Ethernet, user 0
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // ISL source
        0x00, 0x2c, // length: 44 = 26 - 14 + inner 28 + CRC 4
        0xaa, 0xaa, 0x03, // SNAP-like constant
        0x66, 0x77, 0x88, // HSA
        0x00, 0x0a, // VLAN 5 (15 bits) + BPDU bit 0
        0x00, 0x00, 0x00, 0x00, // index, reserved
    ];
    f.extend(eth([0x00, 0x0e])); // inner 802.3 frame, length 14
    f[26..32].copy_from_slice(&[0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]); // inner destination: CDP/DTP multicast
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x04, 0, 0, 0, 0, 0, 0]); // SNAP + DTP bytes
    f.extend_from_slice(&[0x93, 0x1d, 0x7a, 0x49]); // ISL CRC
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert_eq!(fr.isl_vlan, Some(5));
    assert_eq!(fr.dst_mac().unwrap().to_string(), "01:00:0c:cc:cc:cc");
    let Payload::Llc(l) = fr.payload else { panic!("{fr:?}") };
    assert_eq!((l.dsap, l.payload.len()), (0xaa, 11));
}

#[test]
fn tunnelled_ip_and_vlan_tag_protocols_are_kept() {
    // IPv6 in IPv4 (protocol 41): the inner header's addresses and TCP port.
    let mut f = eth([0x88, 0xa8]); // 802.1ad S-tag
    f.extend_from_slice(&[0x00, 0x64, 0x81, 0x00]); // VID 100, then a C-tag
    f.extend_from_slice(&[0x00, 0x0a, 0x08, 0x00]); // VID 10, then IPv4
    f.extend(ipv4(41, 40 + 20, 1, 0));
    f.extend_from_slice(&[0x60, 0, 0, 0, 0x00, 20, 6, 64]); // IPv6, payload 20, next header TCP, hop limit
    f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // 2001:db8::1
    f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]); // 2001:db8::2
    f.extend(tcp_502());
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::ETHERNET, &f, 0);
    assert_eq!(fr.vlan_ids.tags().collect::<Vec<_>>(), vec![(0x88a8, 100), (0x8100, 10)]);
    let ip = fr.ip().unwrap();
    assert_eq!(ip.protocol, 41);
    let inner = ip.inner.unwrap();
    assert_eq!(inner.src.to_string(), "2001:db8::1");
    assert_eq!((inner.protocol, inner.dst_port), (6, Some(502)));
}

#[test]
fn linux_sll2_ipv4() {
    let mut f = vec![
        0x08, 0x00, // protocol IPv4
        0x00, 0x00, // reserved
        0x00, 0x00, 0x00, 0x02, // interface index
        0x00, 0x01, // ARPHRD_ETHER
        0x04, // packet type: sent by us
        0x06, // address length
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, // address
    ];
    f.extend(ipv4(6, 20, 3, 0));
    f.extend(tcp_502());
    let mut d = Decoder::new();
    let fr = d.decode(LinkType::LINUX_SLL2, &f, 0);
    assert_eq!(
        fr.link,
        Link::LinuxSll { packet_type: 4, src: Some(MacAddr([0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb])) }
    );
    assert_eq!(fr.tcp().unwrap().dst_port, 502);
    assert!(
        d.decode(LinkType::LINUX_SLL2, &f[..19], 0)
            .anomalies
            .contains(WireAnomalies::TRUNCATED_LINK)
    );
}
