//! Hand-assembled messages, one field per line: `# comments` are ignored by
//! [`hex`]. Lengths are AVP Length (padding not included); padding is spelled out.

/// Decodes the commented hex below: everything after `#` on a line is a comment.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// CER as seed 004 describes NowSMS's MMSC sending it.
pub const CER: &str = "
01 000080                         # version 1, message length 128
80 000101                         # flags R, command 257 Capabilities-Exchange
00000000                          # application 0 (common messages)
00002a01                          # hop-by-hop
5e000001                          # end-to-end
00000108 40 000018                # Origin-Host (264), M, length 24
  6d6d73632e6578616d706c652e6e6574  # 'mmsc.example.net'
00000128 40 000013                # Origin-Realm (296), M, length 19
  6578616d706c652e6e6574 00       # 'example.net' + 1 padding
00000101 40 00000e                # Host-IP-Address (257), M, length 14
  0001 c000020a 0000              # family 1 (IPv4), 192.0.2.10, 2 padding
0000010a 40 00000c 000028af       # Vendor-Id (266), M: 10415 (3GPP)
0000010d 00 00000c 4d4d5343       # Product-Name (269), M clear: 'MMSC'
00000102 40 00000c 00000004       # Auth-Application-Id (258), M: 4 (credit control)
00000103 40 00000c 00000000       # Acct-Application-Id (259), M: 0
";

/// CCR EVENT for one MMS, MM9 style (Service-Information/MMS-Information).
pub const CCR_MM9: &str = "
01 00023c                         # version 1, message length 572
c0 000110                         # flags R P, command 272 Credit-Control
00000004                          # application 4 (credit control)
00002a02                          # hop-by-hop
5e000002                          # end-to-end
00000107 40 000025                # Session-Id (263), M, length 37
  6d6d73632e6578616d706c652e6e65743b313730303030303030303b31 000000
                                  # 'mmsc.example.net;1700000000;1' + 3 padding
00000108 40 000018                # Origin-Host (264), M, length 24
  6d6d73632e6578616d706c652e6e6574  # 'mmsc.example.net'
00000128 40 000013                # Origin-Realm (296), M, length 19
  6578616d706c652e6e6574 00       # 'example.net'
00000125 40 000017                # Destination-Host (293), M, length 23
  6f63732e6578616d706c652e6e6574 00 # 'ocs.example.net'
0000011b 40 000013                # Destination-Realm (283), M, length 19
  6578616d706c652e6e6574 00       # 'example.net'
00000102 40 00000c 00000004       # Auth-Application-Id (258): 4
000001cd 40 000016                # Service-Context-Id (461), M, length 22
  333232373040336770702e6f7267 0000 # '32270@3gpp.org'
000001a0 40 00000c 00000004       # CC-Request-Type (416): 4 EVENT_REQUEST
0000019f 40 00000c 00000000       # CC-Request-Number (415): 0
00000037 40 00000c e8fe6f80       # Event-Timestamp (55), Time: 2023-11-14T22:13:20Z
000001bb 40 000028                # Subscription-Id (443), grouped, length 40
  000001c2 40 00000c 00000000     #   Subscription-Id-Type (450): 0 END_USER_E164
  000001bc 40 000014              #   Subscription-Id-Data (444), length 20
    343437373030393030313233      #     '447700900123'
000001b4 40 00000c 00000000       # Requested-Action (436): 0 DIRECT_DEBITING
00000017 80 00000e 000028af       # 3GPP-MS-TimeZone (23), V, vendor 10415, length 14
  4000 0000                       #   +1h (4 quarter hours, swapped BCD), no DST; 2 padding
00000369 80 00011c 000028af       # Service-Information (873), V, length 284
  0000036d 80 000110 000028af     #   MMS-Information (877), V, length 272
    00000376 80 000034 000028af   #     Originator-Address (886), length 52
      00000383 80 000010 000028af 00000001  # Address-Type (899): 1 MSISDN
      00000381 80 000018 000028af           # Address-Data (897), length 24
        343437373030393030313233            #   '447700900123'
    000004b1 80 000044 000028af   #     Recipient-Address (1201), length 68
      00000383 80 000010 000028af 00000001  # Address-Type (899): 1 MSISDN
      00000381 80 000018 000028af           # Address-Data (897), length 24
        343437373030393030343536            #   '447700900456'
      000004b8 80 000010 000028af 00000000  # Addressee-Type (1208): 0 TO
    000004b2 80 000010 000028af e8fe6f80    # Submission-Time (1202)
    000004b3 80 00002c 000028af   #     MM-Content-Type (1203), length 44
      000004b4 80 000010 000028af 00000033  # Type-Number (1204): 0x33 multipart.related
      000004b6 80 000010 000028af 00000400  # Content-Size (1206): 1024
    000004ba 80 000014 000028af 6d73672d30303031 # Message-ID (1210): 'msg-0001'
    000004bb 80 000010 000028af 00000001    # Message-Type (1211): 1 m-send-req
    000004bc 80 000010 000028af 00000800    # Message-Size (1212): 2048
    000004bd 80 00001c 000028af   #     Message-Class (1213), length 28
      000004be 80 000010 000028af 00000000  # Class-Identifier (1214): 0 Personal
";

/// CCR EVENT in generic DCCA style: Service-Identifier and a price
/// (CC-Money 0.25 EUR), with the optional SGSN AVPs.
pub const CCR_DCCA: &str = "
01 000160                         # version 1, message length 352
c0 000110                         # flags R P, command 272
00000004 00002a03 5e000003        # application 4, hop-by-hop, end-to-end
00000107 40 000025                # Session-Id (263), length 37
  6d6d73632e6578616d706c652e6e65743b313730303030303030303b32 000000
                                  # 'mmsc.example.net;1700000000;2'
00000108 40 000018 6d6d73632e6578616d706c652e6e6574  # Origin-Host
00000128 40 000013 6578616d706c652e6e6574 00         # Origin-Realm
0000011b 40 000013 6578616d706c652e6e6574 00         # Destination-Realm
00000102 40 00000c 00000004                          # Auth-Application-Id: 4
000001cd 40 000016 333232373040336770702e6f7267 0000 # Service-Context-Id
000001a0 40 00000c 00000004                          # CC-Request-Type: EVENT
0000019f 40 00000c 00000000                          # CC-Request-Number: 0
000001bb 40 000028                                   # Subscription-Id, length 40
  000001c2 40 00000c 00000000                        #   type 0 END_USER_E164
  000001bc 40 000014 343437373030393030313233        #   data '447700900123'
000001b4 40 00000c 00000000                          # Requested-Action: DIRECT_DEBITING
00000012 80 000011 000028af 3233343135 000000        # 3GPP-SGSN-MCC-MNC (18), V: '23415'
000004cc 80 000012 000028af 0001 c6336407 0000       # SGSN-Address (1228), V: 198.51.100.7
000001b7 40 00000c 000003e9                          # Service-Identifier (439): 1001
000001b5 40 000040                                   # Requested-Service-Unit (437), length 64
  0000019d 40 000038                                 #   CC-Money (413), length 56
    000001bd 40 000024                               #     Unit-Value (445), length 36
      000001bf 40 000010 0000000000000019            #       Value-Digits (447), Integer64: 25
      000001ad 40 00000c fffffffe                    #       Exponent (429), Integer32: -2
    000001a9 40 00000c 000003d2                      #     Currency-Code (425): 978 EUR
";

/// CEA with Result-Code 2001, written by hand as a charging server would send it.
pub const CEA: &str = "
01 000080                         # version 1, length 128
00 000101                         # no flags (answer), command 257
00000000 00002a01 5e000001        # application 0, ids echoed from the CER
0000010c 40 00000c 000007d1       # Result-Code (268): 2001 DIAMETER_SUCCESS
00000108 40 000017 6f63732e6578616d706c652e6e6574 00 # Origin-Host 'ocs.example.net'
00000128 40 000013 6578616d706c652e6e6574 00         # Origin-Realm 'example.net'
00000101 40 00000e 0001 c0000214 0000                # Host-IP-Address 192.0.2.20
0000010a 40 00000c 00000000                          # Vendor-Id: 0
0000010d 00 00000b 4f4353 00                         # Product-Name 'OCS', length 11
00000102 40 00000c 00000004                          # Auth-Application-Id: 4
";

/// CCA with Result-Code 2001 and one MSCC granting one service-specific unit.
pub const CCA: &str = "
01 0000c4                         # version 1, length 196
40 000110                         # flags P (answer), command 272
00000004 00002a02 5e000002        # application 4, ids echoed from the CCR
00000107 40 000025                # Session-Id, length 37
  6d6d73632e6578616d706c652e6e65743b313730303030303030303b31 000000
0000010c 40 00000c 000007d1                          # Result-Code: 2001
00000108 40 000017 6f63732e6578616d706c652e6e6574 00 # Origin-Host 'ocs.example.net'
00000128 40 000013 6578616d706c652e6e6574 00         # Origin-Realm
00000102 40 00000c 00000004                          # Auth-Application-Id: 4
000001a0 40 00000c 00000004                          # CC-Request-Type: EVENT
0000019f 40 00000c 00000000                          # CC-Request-Number: 0
000001c8 40 00002c                                   # Multiple-Services-Credit-Control (456), length 44
  000001af 40 000018                                 #   Granted-Service-Unit (431), length 24
    000001a1 40 000010 0000000000000001              #     CC-Service-Specific-Units (417): 1
  0000010c 40 00000c 000007d1                        #   Result-Code: 2001
";
