"""Whole flows through the web UI, as the people of two OPDs do them on their phones."""

import hashlib
import re
import time

from playwright.sync_api import expect

from conftest import BASE, DEMO_PASSPHRASE, PASSWORD, RUN

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DINKES_PASSPHRASE = "frasa-tte-kepala-dinkes"


def wait_for(person, path, text, seconds=60):
    """Reloads `path` until `text` is on it (the dispatch worker delivers in the background)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        person.goto(path)
        if text in person.page.content():
            return
        time.sleep(0.5)
    raise AssertionError(f"{text!r} never appeared on {path}")


def test_a_letter_from_draft_to_completed_disposition(people):
    subject = f"Permohonan data kunjungan puskesmas untuk dasbor layanan publik {RUN}"

    # The head of Dinkes makes the signing key the letter will need (a mismatch first).
    head = people("dinkes.kepala")
    head.goto("/akun", screen="akun")
    head.page.get_by_label("Passphrase baru").fill(DINKES_PASSPHRASE)
    head.page.get_by_label("Ulangi passphrase").fill(DINKES_PASSPHRASE + "x")
    head.page.get_by_role("button", name=re.compile(r"^\s*Buat Kunci")).click()
    expect(head.page.locator("#ulangi-error")).to_have_text("Kedua passphrase tidak sama.")
    head.page.get_by_label("Passphrase baru").fill(DINKES_PASSPHRASE)
    head.page.get_by_label("Ulangi passphrase").fill(DINKES_PASSPHRASE)
    head.page.get_by_label("Kata sandi akun Anda").fill("bukan-kata-sandinya")
    head.page.get_by_role("button", name=re.compile(r"^\s*Buat Kunci")).click()
    expect(head.page.locator("#password-error")).to_have_text("Kata sandi akun salah.")
    head.page.get_by_label("Passphrase baru").fill(DINKES_PASSPHRASE)
    head.page.get_by_label("Ulangi passphrase").fill(DINKES_PASSPHRASE)
    head.page.get_by_label("Kata sandi akun Anda").fill(PASSWORD)
    head.page.get_by_role("button", name=re.compile(r"^\s*Buat Kunci")).click()
    expect(head.notice()).to_contain_text("Kunci tanda tangan elektronik Anda telah dibuat")

    # The clerk drafts with an attachment, a copy, and two reviewers of her choosing.
    clerk = people("dinkes.tu", screen="beranda-tu")
    clerk.goto("/naskah-keluar/baru", screen="konsep-baru")
    page = clerk.page
    page.get_by_label("Hal (perihal)").fill(subject)
    page.get_by_label("Kode klasifikasi (KKA)").fill("000")
    page.get_by_label("Isi naskah").fill("Dengan hormat,\n\nKami mohon data kunjungan puskesmas bulan lalu.")
    page.locator("fieldset:has(legend:text-is('Tujuan'))").get_by_label("Dinas Komunikasi dan Informatika").check()
    page.get_by_text("Tembusan (tidak wajib)").click()
    page.locator("fieldset:has(legend:text-is('Tembusan'))").get_by_label("Inspektorat Daerah").check()
    page.get_by_text("Alur paraf dan tanda tangan (tidak wajib)").click()
    page.get_by_label(re.compile(r"^\s*Kepala Bidang Program")).check()
    page.get_by_label(re.compile(r"^\s*Sekretaris")).check()
    signer = page.locator("#penandatangan option", has_text="Kepala Dinas Kesehatan").first.get_attribute("value")
    page.get_by_label("Penanda tangan").select_option(signer)
    page.get_by_label(re.compile(r"^\s*Lampiran")).set_input_files({"name": "data-kunjungan.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_role("button", name="Simpan Konsep").click()
    expect(clerk.notice()).to_have_text("Konsep disimpan.")
    expect(page.get_by_role("link", name="data-kunjungan.pdf")).to_be_visible()
    clerk.check("konsep-tersimpan")
    letter_path = page.url.split(BASE)[1].split("?")[0]
    page.get_by_role("button", name="Ajukan").click()
    expect(clerk.notice()).to_have_text("Naskah diajukan untuk diparaf.")
    clerk.goto("/naskah-keluar?tab=diproses", screen="naskah-keluar-diproses")
    expect(clerk.page.get_by_role("link", name=subject)).to_be_visible()
    clerk.goto("/naskah-keluar?tab=konsep", screen="naskah-keluar-konsep")
    clerk.goto("/klasifikasi?q=umum", screen="cari-kka")
    expect(clerk.page.get_by_text("Umum")).not_to_have_count(0)

    # The first reviewer returns it: a note is required.
    kabid = people("dinkes.kabid1")
    expect(kabid.page.get_by_role("heading", name=subject)).to_be_visible()
    kabid.page.get_by_role("link", name=subject).click()
    kabid.check("paraf")
    kabid.page.get_by_text("Kembalikan ke konseptor").click()
    kabid.page.get_by_role("button", name="Kembalikan").click()
    expect(kabid.page.locator("#catatan-error")).to_have_text("Tuliskan alasan naskah dikembalikan.")
    kabid.page.get_by_label("Catatan perbaikan").fill("Tambahkan rentang tanggal data yang diminta.")
    kabid.page.get_by_role("button", name="Kembalikan").click()
    expect(kabid.notice()).to_have_text("Naskah dikembalikan kepada konseptor.")

    # The clerk sees the note, edits (a stale form is refused), and submits again.
    clerk.goto("/")
    expect(clerk.page.get_by_text("Dikembalikan").first).to_be_visible()
    clerk.goto(letter_path, screen="dikembalikan")
    expect(clerk.page.get_by_role("alert")).to_contain_text("Tambahkan rentang tanggal data yang diminta.")
    stale = clerk.context.new_page()
    stale.goto(BASE + letter_path + "/ubah")
    clerk.page.get_by_role("link", name="Ubah Konsep").click()
    clerk.check("ubah-konsep")
    clerk.page.get_by_label("Isi naskah").fill("Dengan hormat,\n\nKami mohon data kunjungan puskesmas 1–30 November.")
    clerk.page.get_by_role("button", name="Simpan Konsep").click()
    expect(clerk.notice()).to_have_text("Konsep disimpan.")
    stale.get_by_label("Hal (perihal)").fill(subject + " (versi lama)")
    stale.get_by_role("button", name="Simpan Konsep").click()
    expect(stale.get_by_role("alert")).to_contain_text("telah diubah orang lain")
    stale.close()
    clerk.goto(letter_path)
    expect(clerk.page.get_by_role("heading", level=1)).to_have_text(subject)
    clerk.page.get_by_role("button", name="Ajukan").click()
    expect(clerk.notice()).to_have_text("Naskah diajukan untuk diparaf.")

    # Both reviewers initial it in one tap from their Beranda.
    for reviewer in (kabid, people("dinkes.sekretaris")):
        reviewer.goto("/")
        card = reviewer.page.locator("li.card", has_text=subject)
        card.get_by_role("button", name="Paraf").click()
        expect(reviewer.notice()).to_have_text("Naskah telah Anda paraf.")

    # The head signs: a wrong passphrase first (no number taken), then a double tap.
    head.goto("/", screen="beranda-kepala")
    head.page.locator("li.card", has_text=subject).get_by_role("link", name="Buka dan tandatangani").click()
    head.check("tandatangani")
    head.page.get_by_label("Passphrase tanda tangan elektronik").fill("bukan-passphrase-ini")
    head.page.get_by_role("button", name="Tandatangani").click()
    expect(head.page.locator("#passphrase-error")).to_have_text("Passphrase salah. Naskah belum ditandatangani.")
    expect(head.page.get_by_text("Belum bernomor")).to_be_visible()
    assert head.page.get_by_label("Passphrase tanda tangan elektronik").input_value() == ""
    assert "bukan-passphrase-ini" not in head.page.content()
    head.check("passphrase-salah")
    head.page.get_by_label("Passphrase tanda tangan elektronik").fill(DINKES_PASSPHRASE)
    head.page.get_by_role("button", name="Tandatangani").dblclick()
    expect(head.notice()).to_contain_text("Naskah telah ditandatangani dan diberi nomor")
    assert DINKES_PASSPHRASE not in head.page.content() and DINKES_PASSPHRASE not in head.page.url
    expect(head.page.locator(".timeline li", has_text="Ditandatangani dan diberi nomor")).to_have_count(1)
    number = head.page.locator("dt:text-is('Nomor') + dd").inner_text()
    assert re.search(r"\d", number), number
    head.page.get_by_role("link", name="Verifikasi tanda tangan").click()
    expect(head.page.get_by_role("status")).to_contain_text("Tanda tangan elektronik sah")
    head.check("verifikasi")

    # The signed PDF, and what its QR code opens for anyone, without logging in.
    head.goto(letter_path)
    with head.page.expect_download() as download:
        head.page.get_by_role("link", name="Unduh PDF bertanda tangan").click()
    pdf_path = download.value.path()
    with open(pdf_path, "rb") as file:
        signed_pdf = file.read()
    assert signed_pdf.startswith(b"%PDF-") and b"/ETSI.CAdES.detached" in signed_pdf
    document = head.context.request.get(BASE + letter_path + "/dokumen").body()
    letter_id = letter_path.rstrip("/").rsplit("/", 1)[1]
    stranger = people()
    stranger.goto(f"/v/{letter_id}?h={hashlib.sha256(document).hexdigest()[:16]}", screen="verifikasi-publik")
    expect(stranger.page.get_by_role("status")).to_have_text("Naskah ini sah: ditandatangani secara elektronik dan tercatat di esurat.")
    expect(stranger.page.locator("dt:text-is('Nomor') + dd")).to_have_text(number)
    expect(stranger.page.locator("dt:text-is('Hal') + dd")).to_have_text(subject)
    expect(stranger.page.locator("dt:text-is('Penanda tangan') + dd")).not_to_be_empty()
    stranger.goto(f"/v/{letter_id}?h=0000000000000000", screen="verifikasi-publik-tidak-cocok")
    expect(stranger.page.get_by_role("status")).to_contain_text("tidak cocok")
    expect(stranger.page.locator("dl.facts")).to_have_count(0)
    # The PDF uploaded there is reported valid; a copy with one byte changed is not.
    upload = stranger.page.get_by_label("Berkas PDF (paling besar 20 MB)")
    upload.set_input_files(pdf_path)
    stranger.page.get_by_role("button", name="Periksa").click()
    expect(stranger.page.locator("#judul-hasil + p")).to_have_text("Berkas PDF ini sah (PAdES B-LTA).")
    expect(stranger.page.locator("ul.checks li").first).to_be_visible()
    stranger.check("hasil-periksa-pdf")
    changed = bytearray(signed_pdf)
    changed[len(changed) // 4] ^= 0x01
    stranger.page.get_by_label("Berkas PDF (paling besar 20 MB)").set_input_files(
        files=[{"name": "naskah-diubah.pdf", "mimeType": "application/pdf", "buffer": bytes(changed)}])
    stranger.page.get_by_role("button", name="Periksa").click()
    expect(stranger.page.locator("#judul-hasil + p")).to_have_text("Berkas PDF ini TIDAK sah.")
    stranger.check("hasil-periksa-pdf-diubah")

    # Diskominfo's clerk registers it when it arrives.
    kominfo_clerk = people("diskominfo.tu")
    wait_for(kominfo_clerk, "/naskah-masuk?status=new", subject)
    kominfo_clerk.check("naskah-masuk")
    kominfo_clerk.page.get_by_role("link", name=subject).click()
    entry_path = kominfo_clerk.page.url.split(BASE)[1].split("?")[0]
    expect(kominfo_clerk.page.get_by_role("link", name="data-kunjungan.pdf")).to_be_visible()
    kominfo_clerk.page.get_by_role("button", name="Registrasi").click()
    expect(kominfo_clerk.notice()).to_have_text("Naskah masuk telah diregistrasi.")
    expect(kominfo_clerk.page.get_by_text(re.compile(r"nomor agenda \d+"))).to_be_visible()
    with kominfo_clerk.page.expect_download() as download:
        kominfo_clerk.page.get_by_role("link", name="data-kunjungan.pdf").click()
    assert download.value.suggested_filename == "data-kunjungan.pdf"

    # Its head disposes to both Kabid in four taps (nothing chosen first: named errors).
    kominfo_head = people("diskominfo.kepala")
    kominfo_head.page.locator("li.card", has_text=subject).get_by_role("link", name="Disposisikan").click()
    kominfo_head.check("disposisikan")
    form = kominfo_head.page.locator("#disposisikan")
    form.get_by_role("button", name="Kirim Disposisi").click()
    expect(kominfo_head.page.get_by_text("Pilih paling sedikit satu penerima disposisi.")).to_be_visible()
    expect(kominfo_head.page.get_by_text("Pilih paling sedikit satu instruksi.")).to_be_visible()
    form = kominfo_head.page.locator("#disposisikan")
    form.get_by_label(re.compile(r"^\s*Kepala Bidang Program")).tap()
    form.get_by_label(re.compile(r"^\s*Kepala Bidang Layanan")).tap()
    form.get_by_label("Tindak lanjuti").tap()
    form.get_by_role("button", name="Kirim Disposisi").tap()
    expect(kominfo_head.notice()).to_have_text("Disposisi telah dikirim.")
    expect(kominfo_head.page.locator(".tree").get_by_text("Belum dibaca")).to_have_count(2)
    kominfo_head.check("pohon-disposisi")

    # One Kabid forwards to the staff; the staff completes with a report.
    layanan = people("diskominfo.kabid2")
    layanan.goto("/disposisi", screen="disposisi-masuk")
    layanan.page.get_by_role("link", name=subject).click()
    layanan.page.get_by_text("Teruskan ke bawahan").click()
    forward = layanan.page.locator("#teruskan")
    forward.get_by_label(re.compile(r"^\s*Pranata Komputer")).check()
    forward.get_by_label("Proses lebih lanjut").check()
    forward.get_by_role("button", name="Teruskan").click()
    expect(layanan.notice()).to_have_text("Disposisi telah diteruskan.")
    layanan.check("diteruskan")

    staff = people("diskominfo.staf")
    staff.goto("/disposisi")
    staff.page.get_by_role("link", name=subject).click()
    staff.check("tindak-lanjut")
    staff.page.get_by_role("button", name="Kirim Laporan").click()
    expect(staff.page.locator("#laporan-error")).to_be_visible()
    staff.page.get_by_label("Laporan tindak lanjut").fill("Data kunjungan telah dikirim melalui surel dinas.")
    staff.page.get_by_role("button", name="Kirim Laporan").click()
    expect(staff.notice()).to_have_text("Laporan tindak lanjut telah dikirim.")

    kominfo_head.goto(entry_path)
    tree = kominfo_head.page.locator(".tree")
    expect(tree.get_by_text("Selesai")).to_have_count(1)
    expect(tree.get_by_text(re.compile(r"dibaca \d+ \w+ \d{4}"))).not_to_have_count(0)
    expect(tree.get_by_text("Data kunjungan telah dikirim melalui surel dinas.")).to_be_visible()

    # The head of another unit opens none of it.
    outsider = people("bappeda.kepala")
    for path in (letter_path, entry_path, letter_path + "/verifikasi"):
        response = outsider.goto(path)
        assert response.status == 404, f"{path}: {response.status}"
        expect(outsider.page.get_by_role("alert")).to_contain_text("tidak ditemukan")
    outsider.check("tidak-ditemukan")


def test_the_demo_head_works_through_what_waits(people):
    """diskominfo.kepala on a phone: the demo letter to sign, the demo letters to dispose."""
    head = people("diskominfo.kepala", screen="beranda-demo")
    expect(head.page.locator(".counter", has_text="Perlu tanda tangan").locator(".count")).not_to_have_text("0")
    expect(head.page.get_by_text("Lewat batas waktu").first).to_be_visible()
    head.page.get_by_role("link", name="Buka dan tandatangani").first.click()
    head.page.get_by_label("Passphrase tanda tangan elektronik").fill(DEMO_PASSPHRASE)
    head.page.get_by_role("button", name="Tandatangani").tap()
    expect(head.notice()).to_contain_text("ditandatangani")
    head.goto("/naskah-masuk", screen="naskah-masuk-kepala")
    head.goto("/disposisi?status=overdue")
    head.goto("/")
    head.page.locator("li.card", has_text="Disposisi Anda lewat batas waktu").first.get_by_role("link").first.click()
    expect(head.page.locator(".tree .late").first).to_be_visible()
    head.check("disposisi-lewat-batas")

    # The same screens on a desktop.
    desk = people("diskominfo.kepala", width=1280, screen="beranda")
    desk.goto("/naskah-masuk", screen="naskah-masuk")
    desk.goto("/disposisi?status=overdue", screen="disposisi-lewat-batas")
