-- Shows callmgr's signalling frames with Wireshark's own dissectors.
-- Frame (docs/wire.md): Ethernet II, EtherType 0x88B5, a 2-octet big-endian
-- SSCOP PDU length (Ethernet pads short frames, and a trailer-coded PDU cannot
-- be found behind padding), one Q.2110 SSCOP PDU, padding.  "sscop" hands SD
-- payloads to the dissector its sscop.payload preference names (Q.2931).
--   tshark -X lua_script:tools/callmgr.lua -o sscop.payload:Q.2931 -r f.pcap -V
local sscop = Dissector.get("sscop")
local proto = Proto("callmgr", "callmgr link framing")
local f_len = ProtoField.uint16("callmgr.length", "SSCOP PDU length", base.DEC)
local f_pad = ProtoField.bytes("callmgr.padding", "Padding")
local e_len = ProtoExpert.new("callmgr.length.bad", "SSCOP PDU length does not fit the frame",
	expert.group.MALFORMED, expert.severity.ERROR)
proto.fields = { f_len, f_pad }
proto.experts = { e_len }

function proto.dissector(tvb, pinfo, tree)
	local t = tree:add(proto, tvb())
	if tvb:len() < 2 then
		t:add_proto_expert_info(e_len)
		return tvb:len()
	end
	local n = tvb(0, 2):uint()
	t:add(f_len, tvb(0, 2))
	if n < 4 or n + 2 > tvb:len() then
		t:add_proto_expert_info(e_len)
		return tvb:len()
	end
	if tvb:len() > n + 2 then
		t:add(f_pad, tvb(n + 2))
	end
	sscop:call(tvb(2, n):tvb(), pinfo, tree)
	return tvb:len()
end

DissectorTable.get("ethertype"):add(0x88B5, proto)

-- Data frames (docs/wire.md, "Data frames"): EtherType 0x88B6, a 12-octet
-- header labelling the leg (VPCI, VCI), the SDU (sequence) and the
-- fragment, then L octets of the SDU's AAL5 CPCS-PDU; the last fragment
-- ends with the AAL5 trailer (UU, CPI, length, CRC-32).
local data = Proto("callmgr_data", "callmgr data")
local d_ver = ProtoField.uint8("callmgr_data.version", "Version", base.DEC)
local d_last = ProtoField.bool("callmgr_data.last", "Last fragment", 8, nil, 0x01)
local d_vpci = ProtoField.uint16("callmgr_data.vpci", "VPCI", base.DEC)
local d_vci = ProtoField.uint16("callmgr_data.vci", "VCI (leg label)", base.DEC)
local d_seq = ProtoField.uint16("callmgr_data.seq", "SDU sequence", base.DEC)
local d_frag = ProtoField.uint8("callmgr_data.frag", "Fragment", base.DEC)
local d_len = ProtoField.uint16("callmgr_data.length", "Payload length", base.DEC)
local d_payload = ProtoField.bytes("callmgr_data.payload", "CPCS-PDU octets")
local d_sdulen = ProtoField.uint16("callmgr_data.sdu_length", "AAL5 trailer: SDU length", base.DEC)
local d_crc = ProtoField.uint32("callmgr_data.crc", "AAL5 trailer: CRC-32", base.HEX)
local e_dlen = ProtoExpert.new("callmgr_data.length.bad", "Payload length does not fit the frame",
	expert.group.MALFORMED, expert.severity.ERROR)
data.fields = { d_ver, d_last, d_vpci, d_vci, d_seq, d_frag, d_len, d_payload, d_sdulen, d_crc }
data.experts = { e_dlen }

function data.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "callmgr data"
	local t = tree:add(data, tvb())
	if tvb:len() < 12 then
		t:add_proto_expert_info(e_dlen)
		return tvb:len()
	end
	t:add(d_ver, tvb(0, 1))
	t:add(d_last, tvb(1, 1))
	t:add(d_vpci, tvb(2, 2))
	t:add(d_vci, tvb(4, 2))
	t:add(d_seq, tvb(6, 2))
	t:add(d_frag, tvb(8, 1))
	t:add(d_len, tvb(10, 2))
	local n = tvb(10, 2):uint()
	if n == 0 or n + 12 > tvb:len() then
		t:add_proto_expert_info(e_dlen)
		return tvb:len()
	end
	t:add(d_payload, tvb(12, n))
	local last = bit.band(tvb(1, 1):uint(), 1) == 1
	if last and n >= 8 then
		t:add(d_sdulen, tvb(12 + n - 6, 2))
		t:add(d_crc, tvb(12 + n - 4, 4))
	end
	pinfo.cols.info = string.format("VCI %d SDU %d fragment %d%s, %d octets", tvb(4, 2):uint(),
		tvb(6, 2):uint(), tvb(8, 1):uint(), last and " (last)" or "", n)
	return tvb:len()
end

DissectorTable.get("ethertype"):add(0x88B6, data)
