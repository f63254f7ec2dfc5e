/// The README.txt of every archive: how an auditor checks it with stock tools, in Bahasa
/// Indonesia and in English.
enum ArchiveReadme {
    static func text(bag: String) -> String {
        """
        ARSIP AUDIT NASKAH DINAS ELEKTRONIK (esurat)
        =============================================

        Bahasa Indonesia
        ----------------
        Berkas ini adalah "bag" BagIt (RFC 8493). Semua perintah di bawah dijalankan dari
        direktori teratas bag (\(bag)/) setelah arsip tar diekstrak:

            tar -xf ARSIP.tar && cd \(bag)

        0. Pastikan CA induk memang milik pemerintah daerah penerbit: bandingkan sidik jari
           (fingerprint) SHA-256 sertifikat CA induk di data/pki/ca.pem (sertifikat yang
           subject dan issuer-nya sama) dengan nilai yang diumumkan pemerintah daerah lewat
           saluran lain (situs resmi, surat resmi):
               openssl x509 -in <berkas CA induk> -noout -subject -issuer -fingerprint -sha256
           Semua pemeriksaan tanda tangan di bawah hanya berarti jika nilai ini cocok.

        1. Keutuhan seluruh berkas (manifest SHA-256 dan SHA-512):
               sha256sum -c manifest-sha256.txt
               sha512sum -c manifest-sha512.txt
               sha256sum -c tagmanifest-sha256.txt
           atau dengan validator BagIt: pip install bagit; bagit.py --validate .
           Manifest bisa dihitung ulang oleh siapa pun yang mengubah isi bag; karena itu
           tagmanifest-sha256.txt ditandatangani server (sertifikat data/pki/evidence.pem):
               openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s \\
                   -content tagmanifest-sha256.txt -CAfile data/pki/ca.pem -out /dev/null
               openssl cms -cmsout -print -inform DER -in tagmanifest-sha256.txt.p7s | grep -A3 "sid:"
           dan nomor seri penanda tangan harus sama dengan milik data/pki/evidence.pem
           (openssl x509 -in data/pki/evidence.pem -noout -serial).

        2. Tanda tangan elektronik setiap naskah (CMS/CAdES, terpisah dari dokumen):
               openssl cms -verify -binary -inform DER \\
                   -in data/letters/<ID>/document.p7s \\
                   -content data/letters/<ID>/document.json \\
                   -CAfile data/pki/ca.pem -out /dev/null
           Hanya rantai CA di data/pki/ca.pem yang dipakai; tidak perlu koneksi internet.
           Daftar pencabutan sertifikat (CRL): data/pki/crl.der (CA penerbit) dan
           data/pki/root-crl.der (CA induk); tambahkan -crl_check_all -CRLfile untuk
           memeriksanya dengan openssl.

        3. Cap waktu (RFC 3161) atas nilai tanda tangan:
               openssl ts -verify -in data/letters/<ID>/document.tst -token_in \\
                   -data data/letters/<ID>/document.sigvalue \\
                   -CAfile data/pki/ca.pem -untrusted data/pki/tsa.pem

        4. Lampiran: nilai SHA-256 setiap lampiran tercantum di dalam document.json yang
           ditandatangani; bandingkan dengan: sha256sum data/letters/<ID>/attachments/*
           Naskah dalam bentuk PDF (data/letters/<ID>/document.pdf) bertanda tangan PAdES
           B-LTA dan memuat document.json; periksa dengan pdfsig atau pyHanko
           (pyhanko sign adesverify --trust data/pki/ca.pem ...).

        5. Bukti pengiriman (data/letters/<ID>/evidence/*.json) ditandatangani server dengan
           sertifikat data/pki/evidence.pem; periksa seperti langkah 2, dan penanda tangannya
           harus sertifikat itu (seperti langkah 1), bukan sertifikat pejabat mana pun.

        6. Log audit (data/audit/events-*.jsonl) adalah rantai hash: setiap baris adalah JSON
           kanonik (RFC 8785); "hash" = SHA-256 dari baris itu tanpa kolom "hash", dan
           "prevHash" = "hash" baris sebelumnya. Titik periksa (checkpoint) yang
           ditandatangani ada di data/audit/checkpoints/: periksa tanda tangannya seperti
           langkah 2 (-content <N>.json -in <N>.p7s) dan pastikan "headHash" sama dengan
           "hash" peristiwa bernomor urut "sequence".

        7. Semua pemeriksaan di atas sekaligus, luring:
               esurat verify-archive --ca-fingerprint <sidik jari yang diumumkan> ARSIP.tar

        Retensi (JRA) setiap naskah tercatat di letter.json. esurat tidak pernah menghapus
        arsip; penyusutan dilakukan oleh unit kearsipan dengan persetujuan.

        English
        -------
        This is a BagIt bag (RFC 8493). Run the commands below from the bag's top directory
        (\(bag)/) after extracting the tar archive:

            tar -xf ARCHIVE.tar && cd \(bag)

        0. Make sure the root CA is the issuing government's: compare the SHA-256
           fingerprint of the root certificate in data/pki/ca.pem (the one whose subject
           equals its issuer) with the value the government publishes through another
           channel (its official site, an official letter):
               openssl x509 -in <root CA file> -noout -subject -issuer -fingerprint -sha256
           Every signature check below means something only if this value matches.

        1. Integrity of every file (SHA-256 and SHA-512 manifests):
               sha256sum -c manifest-sha256.txt
               sha512sum -c manifest-sha512.txt
               sha256sum -c tagmanifest-sha256.txt
           or with the BagIt validator: pip install bagit; bagit.py --validate .
           Whoever edits a bag can recompute its manifests; so tagmanifest-sha256.txt is
           signed by the server (certificate data/pki/evidence.pem):
               openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s \\
                   -content tagmanifest-sha256.txt -CAfile data/pki/ca.pem -out /dev/null
               openssl cms -cmsout -print -inform DER -in tagmanifest-sha256.txt.p7s | grep -A3 "sid:"
           and the signer's serial number must be that of data/pki/evidence.pem
           (openssl x509 -in data/pki/evidence.pem -noout -serial).

        2. Each letter's electronic signature (detached CMS/CAdES):
               openssl cms -verify -binary -inform DER \\
                   -in data/letters/<ID>/document.p7s \\
                   -content data/letters/<ID>/document.json \\
                   -CAfile data/pki/ca.pem -out /dev/null
           Only the CA chain in data/pki/ca.pem is trusted; no network access is needed.
           Revocation lists: data/pki/crl.der (issuing CA) and data/pki/root-crl.der (root);
           add -crl_check_all -CRLfile to have openssl check them.

        3. The RFC 3161 time-stamp over the signature value:
               openssl ts -verify -in data/letters/<ID>/document.tst -token_in \\
                   -data data/letters/<ID>/document.sigvalue \\
                   -CAfile data/pki/ca.pem -untrusted data/pki/tsa.pem

        4. Attachments: the signed document.json states each attachment's SHA-256; compare
           with: sha256sum data/letters/<ID>/attachments/*
           The letter as a PDF (data/letters/<ID>/document.pdf) is PAdES B-LTA signed and
           embeds document.json; check it with pdfsig or pyHanko
           (pyhanko sign adesverify --trust data/pki/ca.pem ...).

        5. Delivery evidence (data/letters/<ID>/evidence/*.json) is signed by the server's
           certificate data/pki/evidence.pem; check it as in step 2, and that this certificate,
           not any official's, is the signer (as in step 1).

        6. The audit log (data/audit/events-*.jsonl) is a hash chain: each line is canonical
           JSON (RFC 8785); "hash" is the SHA-256 of the line without its "hash" member and
           "prevHash" is the previous line's "hash". Signed checkpoints are in
           data/audit/checkpoints/: check their signatures as in step 2 (-content <N>.json
           -in <N>.p7s) and that "headHash" equals the "hash" of the event whose "chainSeq"
           is the checkpoint's "sequence".

        7. All of the above at once, offline:
               esurat verify-archive --ca-fingerprint <published fingerprint> ARCHIVE.tar

        Each letter's retention (JRA) is in its letter.json. esurat never deletes records;
        disposal is decided by the records unit, with approval.

        """
    }
}
