"""What the UI refuses: forged forms, bad input, script in a subject; and that it works with
JavaScript off, and for auditors and admins."""

import re
import time

from playwright.sync_api import expect

from conftest import ADMIN_PASSWORD, BASE, DEMO_PASSPHRASE, PASSWORD, RUN


def test_forged_forms_are_refused_and_the_api_ignores_the_cookie(people):
    clerk = people("diskominfo.tu")
    cookies = {c["name"]: c for c in clerk.context.cookies()}
    session = cookies["esurat_sesi"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    token = clerk.csrf()
    form = {"hal": "Naskah palsu", "klasifikasi": "000", "jenis": "surat_dinas", "sifat": "biasa", "urgensi": "biasa", "isi": "x"}

    without = clerk.page.request.post(BASE + "/naskah-keluar", form=form, headers={"Origin": BASE})
    assert without.status == 403 and "Formulir ditolak" in without.text()
    foreign = clerk.page.request.post(BASE + "/naskah-keluar", form={**form, "_csrf": token}, headers={"Origin": "https://jahat.example"})
    assert foreign.status == 403
    cross_site = clerk.page.request.post(BASE + "/keluar", form={"_csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status == 403
    clerk.goto("/naskah-keluar")
    expect(clerk.page.get_by_text("Naskah palsu")).to_have_count(0)

    api = clerk.page.request.get(BASE + "/api/v1/letters?box=drafts")
    assert api.status == 401 and api.headers["content-type"].startswith("application/problem+json")
    page = clerk.page.request.get(BASE + "/")
    for header in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert header in page.headers, header
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_a_subject_with_script_is_shown_as_text(people):
    clerk = people("diskominfo.tu")
    clerk.goto("/naskah-keluar/baru")
    hostile = "<script>alert('x')</script> Uji <b>tebal</b>"
    clerk.page.get_by_label("Hal (perihal)").fill(hostile)
    clerk.page.get_by_label("Kode klasifikasi (KKA)").fill("000")
    clerk.page.locator("fieldset:has(legend:text-is('Tujuan'))").get_by_label("Sekretariat Daerah").check()
    clerk.page.get_by_role("button", name="Simpan Konsep").click()
    expect(clerk.page.get_by_role("heading", level=1)).to_have_text(hostile)
    assert clerk.page.locator("main script").count() == 0 and clerk.page.locator("main b").count() == 0
    clerk.check("subjek-berisi-script")


def test_bad_input_gets_indonesian_messages_and_writes_nothing(people):
    clerk = people("diskominfo.tu")
    clerk.goto("/naskah-keluar")
    before = clerk.page.locator("li.card").count()
    clerk.goto("/naskah-keluar/baru")
    clerk.page.get_by_role("button", name="Simpan Konsep").click()
    expect(clerk.page.get_by_role("alert")).to_have_text("Periksa kembali isian yang ditandai.")
    expect(clerk.page.locator("#hal-error")).to_have_text("Wajib diisi.")
    expect(clerk.page.get_by_text("Pilih paling sedikit satu unit tujuan.")).to_be_visible()
    clerk.check("konsep-kosong")

    page = clerk.page
    page.get_by_label("Hal (perihal)").fill("Naskah dengan kode salah")
    page.get_by_label("Kode klasifikasi (KKA)").fill("999.9")
    page.locator("fieldset:has(legend:text-is('Tujuan'))").get_by_label("Sekretariat Daerah").check()
    page.get_by_role("button", name="Simpan Konsep").click()
    expect(page.locator("#klasifikasi-error")).to_have_text("Kode klasifikasi ini tidak ada dalam daftar KKA.")
    page.get_by_label("Kode klasifikasi (KKA)").fill("bukan kode")
    page.get_by_role("button", name="Simpan Konsep").click()
    expect(page.locator("#klasifikasi-error")).to_have_text("Isi dengan kode klasifikasi seperti 000.1.")

    page.get_by_label("Kode klasifikasi (KKA)").fill("000")
    page.get_by_label(re.compile(r"^\s*Lampiran")).set_input_files({"name": "program.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ" * 100})
    page.get_by_role("button", name="Simpan Konsep").click()
    expect(page.get_by_text(re.compile("Jenis berkas ini tidak dapat dilampirkan"))).to_be_visible()
    page.get_by_label(re.compile(r"^\s*Lampiran")).set_input_files({"name": "besar.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + b"0" * (21 * 1024 * 1024)})
    page.get_by_role("button", name="Simpan Konsep").click()
    expect(page.get_by_text(re.compile("Berkas terlalu besar"))).to_be_visible()
    clerk.check("lampiran-terlalu-besar")

    clerk.goto("/naskah-keluar")
    assert clerk.page.locator("li.card").count() == before, "a refused form left a draft behind"

    clerk.goto("/naskah-masuk?q=" + "x" * 300)
    expect(clerk.page.locator("#q-error")).to_be_visible()

    wrong = people()
    wrong.goto("/masuk")
    wrong.page.get_by_label("Nama pengguna").fill("diskominfo.tu")
    wrong.page.get_by_label("Kata sandi").fill("salah-sekali")
    wrong.page.get_by_role("button", name="Masuk").click()
    expect(wrong.page.get_by_role("alert")).to_have_text("Nama pengguna atau kata sandi salah, atau akun tidak aktif.")
    wrong.check("masuk-gagal")


def test_core_flows_work_with_javascript_off(people):
    head = people("diskominfo.kepala", javascript=False, screen="beranda")
    # Dispose the registered demo circular letter: check boxes, a chip, send.
    head.page.locator("li.card", has_text="Perlu disposisi").first.get_by_role("link", name="Disposisikan").click()
    head.check("disposisikan")
    form = head.page.locator("#disposisikan")
    form.get_by_label(re.compile(r"^\s*Sekretaris")).check()
    form.get_by_label("Untuk diketahui").check()
    form.get_by_label("3 hari").check()
    form.get_by_role("button", name="Kirim Disposisi").click()
    expect(head.notice()).to_have_text("Disposisi telah dikirim.")

    clerk = people("diskominfo.tu", javascript=False)
    clerk.goto("/naskah-keluar/baru")
    clerk.page.get_by_label("Hal (perihal)").fill(f"Undangan sosialisasi tanpa JavaScript {RUN}")
    clerk.page.get_by_label("Kode klasifikasi (KKA)").fill("000")
    clerk.page.locator("fieldset:has(legend:text-is('Tujuan'))").get_by_label("Dinas Pendidikan").check()
    clerk.page.get_by_role("button", name="Simpan Konsep").click()
    expect(clerk.notice()).to_have_text("Konsep disimpan.")
    clerk.page.get_by_role("button", name="Ajukan").click()
    expect(clerk.notice()).to_have_text("Naskah diajukan untuk diparaf.")
    clerk.check("diajukan")

    reviewer = people("diskominfo.sekretaris", javascript=False)
    reviewer.page.locator("li.card", has_text=f"Undangan sosialisasi tanpa JavaScript {RUN}").get_by_role("button", name="Paraf").click()
    expect(reviewer.notice()).to_have_text("Naskah telah Anda paraf.")

    head.goto("/")
    head.page.locator("li.card", has_text=f"Undangan sosialisasi tanpa JavaScript {RUN}").get_by_role("link", name="Buka dan tandatangani").click()
    head.page.get_by_label("Passphrase tanda tangan elektronik").fill(DEMO_PASSPHRASE)
    head.page.get_by_role("button", name="Tandatangani").click()
    expect(head.notice()).to_contain_text("ditandatangani")
    head.check("ditandatangani")


def test_a_signature_form_sent_twice_signs_once(people):
    clerk = people("diskominfo.tu")
    clerk.goto("/naskah-keluar/baru")
    clerk.page.get_by_label("Hal (perihal)").fill(f"Pemberitahuan pemadaman server terjadwal {RUN}")
    clerk.page.get_by_label("Kode klasifikasi (KKA)").fill("000")
    clerk.page.locator("fieldset:has(legend:text-is('Tujuan'))").get_by_label("Dinas Sosial").check()
    clerk.page.get_by_role("button", name="Simpan Konsep").click()
    clerk.page.get_by_role("button", name="Ajukan").click()
    path = clerk.page.url.split(BASE)[1].split("?")[0]
    people("diskominfo.sekretaris").page.locator("li.card", has_text=f"Pemberitahuan pemadaman server terjadwal {RUN}").get_by_role("button", name="Paraf").click()

    head = people("diskominfo.kepala")
    head.goto(path)
    token = head.csrf()
    key = head.page.locator("input[name=kunci]").get_attribute("value")
    form = {"_csrf": token, "kunci": key, "passphrase": DEMO_PASSPHRASE}
    first = head.page.request.post(BASE + path + "/tandatangani", form=form, headers={"Origin": BASE}, max_redirects=0)
    second = head.page.request.post(BASE + path + "/tandatangani", form=form, headers={"Origin": BASE}, max_redirects=0)
    assert first.status == 303 and second.status == 303, (first.status, second.status)
    assert first.headers["location"] == second.headers["location"]
    head.goto(path)
    expect(head.page.locator(".timeline li", has_text="Ditandatangani dan diberi nomor")).to_have_count(1)


def test_auditor_reads_the_log_and_exports_the_archive(people):
    auditor = people("auditor", width=1280)
    auditor.goto("/audit", screen="log-audit")
    expect(auditor.page.locator("tbody tr")).not_to_have_count(0)
    auditor.goto("/arsip", screen="ekspor-arsip")
    auditor.page.get_by_role("button", name="Mulai Ekspor").click()
    expect(auditor.notice()).to_contain_text("Permintaan ekspor arsip dicatat")
    deadline = time.time() + 90
    while time.time() < deadline and auditor.page.get_by_role("link", name="Unduh Arsip").count() == 0:
        time.sleep(1)
        auditor.page.reload()
    auditor.check("ekspor-siap")
    with auditor.page.expect_download() as download:
        auditor.page.get_by_role("link", name="Unduh Arsip").click()
    assert download.value.suggested_filename.endswith(".tar")

    phone = people("auditor")
    phone.goto("/audit", screen="log-audit")
    clerk = people("diskominfo.tu")
    response = clerk.goto("/audit")
    assert response.status == 403
    expect(clerk.page.get_by_role("alert")).to_have_text("Anda tidak berwenang melakukan tindakan ini.")


def test_admin_manages_the_organisation(people):
    assert ADMIN_PASSWORD, "ESURAT_ADMIN_PASSWORD is not set for the browser tests"
    admin = people("admin", password=ADMIN_PASSWORD)
    admin.goto("/admin/unit", screen="admin-unit")
    admin.page.get_by_text("Tambah unit").click()
    admin.page.get_by_label("Kode unit").fill(f"UPT-PUSKOM{RUN}")
    admin.page.get_by_label("Nama unit").fill(f"UPT Pusat Komputasi {RUN}")
    admin.page.get_by_label("Jenis unit").select_option("upt")
    admin.page.get_by_label("Unit induk").select_option(label="Dinas Komunikasi dan Informatika")
    admin.page.get_by_role("button", name="Simpan Unit").click()
    expect(admin.notice()).to_have_text("Perubahan disimpan.")
    admin.page.get_by_role("link", name=f"UPT Pusat Komputasi {RUN}").click()
    admin.check("admin-jabatan")
    admin.page.get_by_text("Tambah jabatan di unit ini").click()
    admin.page.get_by_label("Nama jabatan").fill(f"Kepala UPT Pusat Komputasi {RUN}")
    admin.page.get_by_label("Jabatan ini kepala unit").check()
    admin.page.get_by_role("button", name="Simpan Jabatan").click()
    expect(admin.notice()).to_have_text("Perubahan disimpan.")
    expect(admin.page.get_by_text(f"Kepala UPT Pusat Komputasi {RUN} (kosong)")).to_be_visible()

    admin.goto("/admin/pengguna", screen="admin-pengguna")
    admin.page.get_by_text("Tambah pengguna").click()
    admin.page.get_by_role("button", name="Simpan Pengguna").click()
    expect(admin.page.locator(".field-error").first).to_be_visible()
    admin.page.get_by_label("Nama pengguna").fill(f"puskom{RUN}.kepala")
    admin.page.get_by_label("Nama lengkap").fill("Rahmat Hidayat")
    admin.page.get_by_label("NIP").fill("198001012005011001")
    admin.page.get_by_label("Kata sandi awal").fill("kata-sandi-awal-2026")
    admin.page.get_by_label("Unit", exact=True).select_option(label=f"UPT Pusat Komputasi {RUN} (UPT-PUSKOM{RUN})")
    admin.page.get_by_label("Pejabat", exact=True).check()
    admin.page.get_by_label("Jabatan yang dipegang").select_option(label=f"Kepala UPT Pusat Komputasi {RUN} (UPT-PUSKOM{RUN})")
    admin.page.get_by_role("button", name="Simpan Pengguna").click()
    expect(admin.notice()).to_have_text("Perubahan disimpan.")
    expect(admin.page.get_by_text(f"puskom{RUN}.kepala")).to_be_visible()

    admin.goto("/admin/delegasi", screen="admin-delegasi")
    admin.page.get_by_text("Tambah delegasi").click()
    admin.page.get_by_label("Jabatan", exact=True).select_option(label="Kepala Dinas Sosial (DINSOS)")
    users = admin.page.locator("#pengguna option", has_text="dinsos.sekretaris")
    admin.page.get_by_label("Dilaksanakan oleh").select_option(users.first.get_attribute("value"))
    admin.page.get_by_label(re.compile(r"^\s*Plh\.")).check()
    # A window of its own per run: two Plh. of one position may not overlap.
    start = __import__("datetime").date.today() + __import__("datetime").timedelta(days=int(RUN) % 3000)
    admin.page.get_by_label("Mulai tanggal").fill(start.isoformat())
    admin.page.get_by_label("Sampai tanggal (termasuk)").fill(start.isoformat())
    admin.page.get_by_role("button", name="Simpan Delegasi").click()
    expect(admin.notice()).to_have_text("Perubahan disimpan.")
    expect(admin.page.locator("tbody tr", has_text="Kepala Dinas Sosial").first).to_be_visible()

    admin.goto("/admin/alur", screen="admin-alur")
    admin.page.get_by_text("Tetapkan alur baru").click()
    admin.page.get_by_label("Nama alur").fill(f"Surat edaran kecamatan {RUN}")
    admin.page.get_by_label("Untuk jenis naskah").select_option("surat_edaran")
    admin.page.get_by_role("button", name="Simpan Alur").click()
    expect(admin.notice()).to_have_text("Perubahan disimpan.")
    expect(admin.page.get_by_role("heading", name=re.compile(f"Surat edaran kecamatan {RUN}"))).to_be_visible()


def test_unread_letters_are_marked_and_an_unread_disposition_can_be_cancelled(people):
    clerk = people("diskominfo.tu")
    clerk.goto("/naskah-masuk?status=new")
    card = clerk.page.locator("li.card", has_text="Pemberitahuan jadwal audit kinerja")
    expect(card.get_by_text("Belum dibaca")).to_be_visible()
    card.get_by_role("link").click()
    clerk.goto("/naskah-masuk?status=new", screen="naskah-masuk-dibaca")
    expect(clerk.page.locator("li.card", has_text="Pemberitahuan jadwal audit kinerja").get_by_text("Belum dibaca")).to_have_count(0)

    head = people("diskominfo.kepala")
    head.goto("/naskah-masuk")
    head.page.get_by_role("link", name="Pemberitahuan jadwal audit kinerja").click()
    form = head.page.locator("#disposisikan")
    form.get_by_label(re.compile(r"^\s*Kepala Bidang Program")).check()
    form.get_by_label("Untuk diketahui").check()
    form.get_by_role("button", name="Kirim Disposisi").click()
    expect(head.notice()).to_have_text("Disposisi telah dikirim.")
    # Another test may have disposed this letter too: the newest branch is the last one.
    branches = head.page.locator(".tree > li").count()
    head.page.get_by_role("button", name="Batalkan Disposisi").last.click()
    expect(head.notice()).to_have_text("Disposisi dibatalkan.")
    expect(head.page.locator(".tree > li")).to_have_count(branches - 1)
    head.check("disposisi-dibatalkan")
