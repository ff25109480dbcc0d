import zipfile, sys
src, dst = sys.argv[1], sys.argv[2]
repl = dict(a.split('=',1) for a in sys.argv[3:])  # entry=path replacements
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zo:
    for info in zi.infolist():
        ni = zipfile.ZipInfo(info.filename, info.date_time); ni.external_attr = info.external_attr; ni.compress_type = zipfile.ZIP_STORED
        data = open(repl[info.filename],'rb').read() if info.filename in repl else zi.read(info)
        zo.writestr(ni, data)
