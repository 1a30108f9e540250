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
-- ends with the AAL5 trailer (UU, CPI, length, CRC-32).  The CRC covers the
-- whole PDU, so the fragments of each SDU are kept (per source, destination
-- and label) until its last one, whose CRC is then checked; an SDU with a
-- fragment missing from the capture shows "not verified".
local data = Proto("callmgr_data", "callmgr data")
local d_ver = ProtoField.uint8("callmgr_data.version", "Version", base.DEC)
local d_flags = ProtoField.uint8("callmgr_data.flags", "Flags", base.HEX)
local d_last = ProtoField.bool("callmgr_data.last", "Last fragment", 8, nil, 0x01)
local d_vpci = ProtoField.uint16("callmgr_data.vpci", "VPCI", base.DEC)
local d_vci = ProtoField.uint16("callmgr_data.vci", "VCI (leg label)", base.DEC)
local d_seq = ProtoField.uint16("callmgr_data.seq", "SDU sequence", base.DEC)
local d_frag = ProtoField.uint8("callmgr_data.frag", "Fragment", base.DEC)
local d_res = ProtoField.uint8("callmgr_data.reserved", "Reserved", base.HEX)
local d_len = ProtoField.uint16("callmgr_data.length", "Payload length", base.DEC)
local d_payload = ProtoField.bytes("callmgr_data.payload", "CPCS-PDU octets")
local d_pad = ProtoField.bytes("callmgr_data.padding", "Padding")
local d_uu = ProtoField.uint8("callmgr_data.uu", "AAL5 trailer: CPCS-UU", base.HEX)
local d_cpi = ProtoField.uint8("callmgr_data.cpi", "AAL5 trailer: CPI", base.HEX)
local d_sdulen = ProtoField.uint16("callmgr_data.sdu_length", "AAL5 trailer: SDU length", base.DEC)
local d_crc = ProtoField.uint32("callmgr_data.crc", "AAL5 trailer: CRC-32", base.HEX)
local crc_status = { [0] = "Not verified (a fragment is missing)", [1] = "Good", [2] = "Bad" }
local d_crc_status = ProtoField.uint8("callmgr_data.crc.status", "CRC-32 status", base.DEC, crc_status)
local d_pdulen = ProtoField.uint32("callmgr_data.pdu_length", "Reassembled CPCS-PDU length", base.DEC)
local d_nfrags = ProtoField.uint8("callmgr_data.fragments", "Fragments", base.DEC)
local e_dlen = ProtoExpert.new("callmgr_data.length.bad", "Payload length does not fit the frame",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_hdr = ProtoExpert.new("callmgr_data.header.bad",
	"Unknown version, flag or reserved bit (receivers drop the frame)",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_frag = ProtoExpert.new("callmgr_data.fragment.bad",
	"Fragment length: not 1,488 before the last, or a last one not a multiple of 48 cells' octets",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_trailer = ProtoExpert.new("callmgr_data.sdu_length.bad",
	"AAL5 trailer: SDU length 0 or with more than 47 octets of pad",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_crc = ProtoExpert.new("callmgr_data.crc.bad", "AAL5 CRC-32 wrong",
	expert.group.CHECKSUM, expert.severity.ERROR)
local e_unverified = ProtoExpert.new("callmgr_data.crc.unverified",
	"A fragment of this SDU is not in the capture: CRC not checked",
	expert.group.SEQUENCE, expert.severity.NOTE)
data.fields = { d_ver, d_flags, d_last, d_vpci, d_vci, d_seq, d_frag, d_res, d_len, d_payload,
	d_pad, d_uu, d_cpi, d_sdulen, d_crc, d_crc_status, d_pdulen, d_nfrags }
data.experts = { e_dlen, e_hdr, e_frag, e_trailer, e_crc, e_unverified }

-- CRC-32/BZIP2 (as daemon/data/frame.c): poly 04c11db7, not reflected,
-- initial all ones, complemented; unsigned result
local crc_table = {}
for i = 0, 255 do
	local c = bit.lshift(i, 24)
	for _ = 1, 8 do
		if bit.band(c, 0x80000000) ~= 0 then
			c = bit.bxor(bit.lshift(c, 1), 0x04C11DB7)
		else
			c = bit.lshift(c, 1)
		end
	end
	crc_table[i] = c
end
local function crc32(s, n)
	local crc = bit.bnot(0)
	for i = 1, n do
		crc = bit.bxor(bit.lshift(crc, 8),
			crc_table[bit.band(bit.bxor(bit.rshift(crc, 24), s:byte(i)), 0xff)])
	end
	return bit.bnot(crc) % 4294967296
end

-- per leg and direction: the SDU being collected; per last fragment's
-- frame number: what its SDU came to (kept, so a second pass shows the same)
local collecting, verdicts = {}, {}

function data.init()
	collecting, verdicts = {}, {}
end

-- Collect fragment (seq, frag) of a leg on the first pass; on the last
-- fragment, the verdict: { status, pdu_len, nfrags }.
local function collect(pinfo, vci, seq, frag, last, payload)
	local key = tostring(pinfo.dl_src) .. ">" .. tostring(pinfo.dl_dst) .. "/" .. vci
	if frag == 0 then
		collecting[key] = { seq = seq, parts = {} }
	end
	local r = collecting[key]
	if r and (r.seq ~= seq or #r.parts ~= frag) then
		r = nil -- a gap: this SDU cannot be checked
		collecting[key] = nil
	end
	if r then
		r.parts[#r.parts + 1] = payload
	end
	if not last then
		return
	end
	collecting[key] = nil
	if not r then
		verdicts[pinfo.number] = { 0, 0, frag + 1 }
		return
	end
	local pdu = table.concat(r.parts)
	local n = #pdu
	local sent = ((pdu:byte(n - 3) * 256 + pdu:byte(n - 2)) * 256 + pdu:byte(n - 1)) * 256 +
		pdu:byte(n)
	verdicts[pinfo.number] = { crc32(pdu, n - 4) == sent and 1 or 2, n, #r.parts }
end

function data.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "callmgr data"
	local t = tree:add(data, tvb())
	if tvb:len() < 12 then
		t:add_proto_expert_info(e_dlen)
		return tvb:len()
	end
	t:add(d_ver, tvb(0, 1))
	local ft = t:add(d_flags, tvb(1, 1))
	ft:add(d_last, tvb(1, 1))
	t:add(d_vpci, tvb(2, 2))
	t:add(d_vci, tvb(4, 2))
	t:add(d_seq, tvb(6, 2))
	t:add(d_frag, tvb(8, 1))
	t:add(d_res, tvb(9, 1))
	t:add(d_len, tvb(10, 2))
	local flags = tvb(1, 1):uint()
	-- a receiver drops such a frame: shown, not taken into a reassembly
	local dropped = tvb(0, 1):uint() ~= 1 or bit.band(flags, 0xfe) ~= 0 or tvb(9, 1):uint() ~= 0
	if dropped then
		t:add_proto_expert_info(e_hdr)
	end
	local n = tvb(10, 2):uint()
	local vci, seq, frag = tvb(4, 2):uint(), tvb(6, 2):uint(), tvb(8, 1):uint()
	local last = bit.band(flags, 1) == 1
	pinfo.cols.info = string.format("VCI %d SDU %d fragment %d%s, %d octets", vci, seq, frag,
		last and " (last)" or "", n)
	if n == 0 or n > 1488 or n + 12 > tvb:len() then
		t:add_proto_expert_info(e_dlen)
		return tvb:len()
	end
	t:add(d_payload, tvb(12, n))
	if tvb:len() > n + 12 then
		t:add(d_pad, tvb(12 + n))
	end
	if (not last and n ~= 1488) or (last and n % 48 ~= 0) then
		t:add_proto_expert_info(e_frag)
		return tvb:len()
	end
	if dropped then
		return tvb:len()
	end
	if not pinfo.visited then
		collect(pinfo, vci, seq, frag, last, tvb:raw(12, n))
	end
	if not last then
		return tvb:len()
	end
	local tr = 12 + n - 8
	t:add(d_uu, tvb(tr, 1))
	t:add(d_cpi, tvb(tr + 1, 1))
	t:add(d_sdulen, tvb(tr + 2, 2))
	t:add(d_crc, tvb(tr + 4, 4))
	local v = verdicts[pinfo.number]
	if not v then
		return tvb:len()
	end
	local st = t:add(d_crc_status, v[1]):set_generated()
	if v[1] == 2 then
		st:add_proto_expert_info(e_crc)
	elseif v[1] == 0 then
		st:add_proto_expert_info(e_unverified)
	else
		t:add(d_pdulen, v[2]):set_generated()
		t:add(d_nfrags, v[3]):set_generated()
		local sdu = tvb(tr + 2, 2):uint()
		if sdu == 0 or sdu + 8 > v[2] or v[2] - 8 - sdu > 47 then
			t:add_proto_expert_info(e_trailer)
		end
		pinfo.cols.info:append(string.format(": SDU of %d octets, CRC good", sdu))
	end
	return tvb:len()
end

DissectorTable.get("ethertype"):add(0x88B6, data)
