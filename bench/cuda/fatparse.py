import struct, sys, collections
f = sys.argv[1]
data = open(f,'rb').read()
off, size = int(sys.argv[2],16), int(sys.argv[3],16)
end = off+size
p = off
stats = collections.Counter(); cnt = collections.Counter(); nc=0
entries=[]
while p < end:
    magic, ver, hs, fs = struct.unpack_from('<IHHQ', data, p)
    if magic != 0xBA55ED50:
        # padding? skip 8
        p += 8; continue
    nc += 1
    q = p + hs; cend = q + fs
    while q < cend:
        kind, u1, ehs, esz, csz, u2, mnr, mjr, arch, onoff, onlen, flags, zero, dsz = struct.unpack_from('<HHIQIIHHIIIQQQ', data, q)
        key = ('PTX' if kind==1 else 'ELF' if kind==2 else str(kind), arch, 'Z' if flags & 0x2000 else ('Z2' if flags & 0x8000 else '-'))
        stats[key] += esz + ehs; cnt[key]+=1
        entries.append((q, ehs, esz, kind, arch, flags))
        q += ehs + esz
    p = cend
print('containers', nc)
for k,v in sorted(stats.items(), key=lambda x:-x[1]): print(k, cnt[k], v/1e6, 'MB')
print('total', sum(stats.values())/1e6)
fl = collections.Counter((e[3], hex(e[5]), e[1]) for e in entries); print(fl)
if len(sys.argv) > 4:
    out = bytearray(data); z=0
    for (q, ehs, esz, kind, arch, flags) in entries:
        if arch != 90:
            out[q+ehs:q+ehs+esz] = bytes(esz); z += esz
    open(sys.argv[4],'wb').write(out); print('zeroed', z/1e6, 'MB')
