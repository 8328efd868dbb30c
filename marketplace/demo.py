"""Demo catalog: the eight platforms, verified providers (some affiliated), approved trainings,
and purchases: one wave-1 participant with a completed training (certificate) and an unused voucher.

``catalog_build`` is deterministic (seeded) and idempotent: it only adds what is
missing, so ``load_demo`` can run any number of times. The benchmark uses it
with 5,000 trainings (``manage.py seed_catalog --trainings 5000``).

The cohorts demo's participant (kartu@cohorts.demo.prakerja.test) keeps an
untouched Rp1.000.000 balance so that buying can be tried at once, in the
portal or with ``manage.py platform_simulator``.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from cohorts.demo import PARTICIPANT_EMAIL
from cohorts.models import Participant
from marketplace.catalog_cache import catalog_version_bump
from marketplace.enums import (
    DocumentKind,
    ProviderStatus,
    PurchaseChannel,
    TrainingCategory,
    TrainingLevel,
    TrainingMode,
    TrainingStatus,
)
from marketplace.models import (
    Listing,
    Platform,
    PlatformCredential,
    Provider,
    ProviderAffiliation,
    ProviderDocument,
    Purchase,
    Training,
    TrainingSession,
)
from marketplace.selectors import listings_visible
from marketplace.services import completion_record, platform_credential_issue, voucher_redeem
from marketplace.services.purchases import _pay
from prakerja.demo import DEMO_PASSWORD, DemoLogin, demo_user

PLATFORMS = [
    ("tokopedia", "Tokopedia"),
    ("skill-academy", "Skill Academy by Ruangguru"),
    ("bukalapak", "Bukalapak"),
    ("pintaria", "Pintaria"),
    ("sekolahmu", "Sekolahmu"),
    ("pijar-mahir", "Pijar Mahir"),
    ("maubelajarapa", "MauBelajarApa"),
    ("sisnaker", "Kemnaker (Sisnaker)"),
]

# District code, latitude, longitude: city-centre venues for in-person trainings.
VENUES = [
    ("31.71.01", "-6.175400", "106.827200"),
    ("31.74.07", "-6.243300", "106.799000"),
    ("32.73.02", "-6.891500", "107.610700"),
    ("35.78.07", "-7.257500", "112.752100"),
    ("12.71.17", "3.583300", "98.660600"),
    ("73.71.04", "-5.135400", "119.412400"),
    ("33.74.01", "-6.978400", "110.423200"),
    ("34.71.03", "-7.782900", "110.384700"),
    ("51.71.03", "-8.657300", "115.202600"),
    ("64.71.06", "-1.267500", "116.828900"),
    ("32.75.02", "-6.238300", "106.975600"),
    ("32.75.01", "-6.248900", "107.015500"),
    ("35.73.02", "-7.979700", "112.630400"),
    ("61.71.05", "-0.026300", "109.342500"),
    ("71.71.04", "1.493100", "124.841300"),
    ("13.71.03", "-0.949200", "100.354300"),
    ("14.71.01", "0.507100", "101.447800"),
    ("63.71.05", "-3.318600", "114.594400"),
    ("53.71.05", "-10.177200", "123.607000"),
    ("81.71.02", "-3.695400", "128.181400"),
    ("91.71.01", "-2.533700", "140.718100"),
    ("36.71.01", "-6.178300", "106.631900"),
    ("32.71.03", "-6.597100", "106.799000"),
    ("33.72.01", "-7.569700", "110.799700"),
]

STREETS = ["Jl. Merdeka", "Jl. Sudirman", "Jl. Diponegoro", "Jl. Ahmad Yani", "Jl. Gajah Mada", "Jl. Pemuda"]

PROVIDER_NAMES = [
    "LPK Cahaya Mandiri",
    "LKP Tata Boga Sari Rasa",
    "Akademi Barista Nusantara",
    "LPK Otomotif Jaya Teknik",
    "Kursus Menjahit Ratna Busana",
    "PT Edukasi Digital Nusantara",
    "Sekolah Desain Kreatif Indonesia",
    "Global English Course",
    "LPK Bahasa Jepang Sakura Mandiri",
    "Lembaga Kursus Korea Hana",
    "LPK Akuntansi Prima",
    "Inkubator Wirausaha Muda",
    "Rumah Belajar Tani Hidroponik",
    "LPK Teknik Pendingin Sejuk",
    "Salon Academy Ayu Lestari",
    "LPK Perhotelan Bali Dwipa",
    "Kelas Koding Indonesia",
    "Akademi Data Nusantara",
    "LPK Logistik Cakra",
    "Sekolah Fotografi Lensa",
    "LKP Komputer Bina Karya",
    "Lembaga Pelatihan Kerja Mitra Usaha",
    "LPK Las dan Fabrikasi Baja Kuat",
    "Akademi Pemasaran Digital Indonesia",
    "LKP Mandarin Jembatan Ilmu",
    "LPK Barber Gentleman",
    "Kursus Servis Ponsel Cepat Tanggap",
    "LPK Perikanan Mina Lestari",
    "Akademi Kepemimpinan Garuda",
    "LPK Pemandu Wisata Nusantara",
    "Kelas Kreator Konten",
    "LKP Administrasi Perkantoran Cendekia",
    "Pusat Pelatihan Listrik Terang",
    "Akademi UMKM Naik Kelas",
    "LPK Kuliner Dapur Ibu",
    "Lembaga Kursus Bahasa Inggris Bright",
]

# (provider index, platform slug, relationship): the affiliations the catalog must disclose.
AFFILIATIONS = [
    (16, "skill-academy", "Anak perusahaan dari grup yang sama"),
    (5, "pintaria", "Pemegang saham yang sama"),
    (23, "tokopedia", "Akademi milik platform"),
    (30, "bukalapak", "Direksi yang sama"),
    (17, "sekolahmu", "Pemegang saham yang sama"),
    (33, "pijar-mahir", "Mitra eksklusif milik grup platform"),
]

TITLES: dict[str, list[str]] = {
    TrainingCategory.DIGITAL_MARKETING: [
        "Strategi Pemasaran Digital untuk UMKM",
        "Menjadi Social Media Specialist",
        "Iklan Facebook dan Instagram untuk Pemula",
        "Optimasi Toko Online di Marketplace",
        "Copywriting untuk Jualan Online",
        "SEO untuk Pemilik Usaha",
    ],
    TrainingCategory.SALES_MARKETING: [
        "Teknik Penjualan Langsung untuk Tenaga Lapangan",
        "Menjadi Tenaga Pemasar Properti",
        "Telemarketing yang Efektif",
        "Layanan Pelanggan Profesional",
    ],
    TrainingCategory.IT: [
        "Dasar Pemrograman Python",
        "Membuat Website dengan WordPress",
        "Microsoft Excel untuk Administrasi Perkantoran",
        "Analisis Data dengan Google Sheets",
        "Teknisi Komputer dan Jaringan Dasar",
        "Membuat Aplikasi Android untuk Pemula",
    ],
    TrainingCategory.DESIGN: [
        "Desain Grafis dengan Canva",
        "Desain Grafis dengan Adobe Photoshop",
        "Fotografi Produk dengan Ponsel",
        "Editing Video untuk Konten Media Sosial",
        "Desain Logo dan Identitas Merek",
    ],
    TrainingCategory.LANGUAGE: [
        "Bahasa Inggris untuk Percakapan Kerja",
        "Bahasa Jepang Dasar untuk Pekerja Migran",
        "Bahasa Korea untuk Persiapan EPS-TOPIK",
        "Bahasa Mandarin untuk Pemula",
        "Bahasa Inggris untuk Wawancara Kerja",
    ],
    TrainingCategory.FINANCE: [
        "Pembukuan Sederhana untuk UMKM",
        "Akuntansi Dasar dan Laporan Keuangan",
        "Perpajakan untuk Usaha Kecil",
        "Mengelola Keuangan Pribadi dan Keluarga",
    ],
    TrainingCategory.MANAGEMENT: [
        "Administrasi Perkantoran Modern",
        "Manajemen Sumber Daya Manusia Dasar",
        "Kepemimpinan untuk Supervisor",
        "Manajemen Gudang dan Persediaan",
    ],
    TrainingCategory.ENTREPRENEURSHIP: [
        "Memulai Usaha dari Rumah",
        "Menyusun Rencana Bisnis yang Matang",
        "Mengurus Izin Usaha NIB dan PIRT",
        "Mengembangkan Usaha Reseller dan Dropship",
    ],
    TrainingCategory.FOOD: [
        "Membuat Kue Kering untuk Dijual",
        "Barista Profesional",
        "Masakan Nusantara untuk Usaha Katering",
        "Membuat Roti dan Pastry",
        "Usaha Minuman Kekinian",
    ],
    TrainingCategory.BEAUTY: [
        "Tata Rias Pengantin",
        "Menjahit Busana Wanita",
        "Potong Rambut Pria (Barber)",
        "Makeup Artist untuk Pemula",
        "Merias Wajah dan Hijab Styling",
    ],
    TrainingCategory.HOSPITALITY: [
        "Pemandu Wisata Lokal",
        "Housekeeping Hotel",
        "Pelayanan Restoran dan Tata Hidang",
        "Front Office Hotel",
    ],
    TrainingCategory.AGRICULTURE: [
        "Budidaya Sayuran Hidroponik",
        "Budidaya Ikan Lele Sistem Bioflok",
        "Beternak Ayam Kampung",
        "Pengolahan Kopi Pascapanen",
    ],
    TrainingCategory.TECHNICAL: [
        "Teknisi AC dan Mesin Pendingin",
        "Instalasi Listrik Rumah Tangga",
        "Servis Sepeda Motor Injeksi",
        "Las Listrik SMAW Dasar",
        "Perbaikan Ponsel dan Tablet",
    ],
    TrainingCategory.TRANSPORT: [
        "Mengemudi Aman untuk Pengemudi Daring",
        "Manajemen Logistik dan Pengiriman",
        "Ekspedisi dan Pergudangan",
    ],
}

# Which categories each provider teaches, by keywords in its name (the rest teach anything).
PROVIDER_FOCUS = {
    "Boga": [TrainingCategory.FOOD],
    "Kuliner": [TrainingCategory.FOOD],
    "Barista": [TrainingCategory.FOOD],
    "Otomotif": [TrainingCategory.TECHNICAL],
    "Menjahit": [TrainingCategory.BEAUTY],
    "Salon": [TrainingCategory.BEAUTY],
    "Barber": [TrainingCategory.BEAUTY],
    "Desain": [TrainingCategory.DESIGN],
    "Fotografi": [TrainingCategory.DESIGN],
    "Kreator": [TrainingCategory.DESIGN, TrainingCategory.DIGITAL_MARKETING],
    "English": [TrainingCategory.LANGUAGE],
    "Inggris": [TrainingCategory.LANGUAGE],
    "Jepang": [TrainingCategory.LANGUAGE],
    "Korea": [TrainingCategory.LANGUAGE],
    "Mandarin": [TrainingCategory.LANGUAGE],
    "Akuntansi": [TrainingCategory.FINANCE],
    "Wirausaha": [TrainingCategory.ENTREPRENEURSHIP, TrainingCategory.FINANCE],
    "UMKM": [TrainingCategory.ENTREPRENEURSHIP, TrainingCategory.DIGITAL_MARKETING, TrainingCategory.FINANCE],
    "Tani": [TrainingCategory.AGRICULTURE],
    "Perikanan": [TrainingCategory.AGRICULTURE],
    "Pendingin": [TrainingCategory.TECHNICAL],
    "Listrik": [TrainingCategory.TECHNICAL],
    "Las": [TrainingCategory.TECHNICAL],
    "Ponsel": [TrainingCategory.TECHNICAL],
    "Perhotelan": [TrainingCategory.HOSPITALITY],
    "Wisata": [TrainingCategory.HOSPITALITY],
    "Koding": [TrainingCategory.IT],
    "Data": [TrainingCategory.IT],
    "Komputer": [TrainingCategory.IT, TrainingCategory.MANAGEMENT],
    "Logistik": [TrainingCategory.TRANSPORT, TrainingCategory.MANAGEMENT],
    "Kepemimpinan": [TrainingCategory.MANAGEMENT],
    "Administrasi": [TrainingCategory.MANAGEMENT, TrainingCategory.IT],
    "Pemasaran": [TrainingCategory.DIGITAL_MARKETING, TrainingCategory.SALES_MARKETING],
    "Digital": [TrainingCategory.IT, TrainingCategory.DIGITAL_MARKETING, TrainingCategory.DESIGN],
}

LEVEL_SUFFIX = {
    TrainingLevel.BASIC: "",
    TrainingLevel.INTERMEDIATE: " (Tingkat Menengah)",
    TrainingLevel.ADVANCED: " (Tingkat Lanjut)",
}
PRICES = [100_000, 150_000, 199_000, 250_000, 299_000, 350_000, 400_000, 450_000, 500_000, 600_000, 750_000]
AUDIENCES = [
    "pencari kerja lulusan SMA/SMK",
    "pekerja yang terkena PHK",
    "pelaku usaha mikro",
    "ibu rumah tangga yang ingin berwirausaha",
    "pekerja informal yang ingin naik kelas",
]
METHODS = {
    TrainingMode.SELF_PACED: "video pembelajaran, kuis di setiap modul, dan tugas praktik yang dinilai",
    TrainingMode.WEBINAR: "sesi tatap maya langsung bersama instruktur, diskusi, dan tugas praktik",
    TrainingMode.OFFLINE: "praktik langsung di tempat pelatihan dengan peralatan yang disediakan",
}

# A tiny but well-formed PDF for the demo applications' documents.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class BuildResult:
    platforms: int
    providers: int
    trainings: int
    listings: int


def _nib(index: int) -> str:
    return f"9120{index:09d}"


def _provider_name(index: int) -> str:
    if index < len(PROVIDER_NAMES):
        return PROVIDER_NAMES[index]
    base = PROVIDER_NAMES[index % len(PROVIDER_NAMES)]
    return f"{base} Cabang {index // len(PROVIDER_NAMES) + 1}"


def _focus(name: str) -> list[str]:
    for keyword, categories in PROVIDER_FOCUS.items():
        if keyword in name:
            return categories
    return list(TITLES)


def platforms_ensure() -> dict[str, Platform]:
    platforms = {}
    for slug, name in PLATFORMS:
        platform, _created = Platform.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "website": f"https://{slug}.example",
                "contact_name": "Tim Kemitraan Prakerja",
                "contact_email": f"prakerja@{slug}.example",
                # No webhook URL: the demo's platforms do not exist, and each purchase would
                # otherwise end in a failed delivery. Set one in the console to watch deliveries.
                "webhook_url": "",
            },
        )
        platforms[slug] = platform
    # Demo databases made before webhooks were sent still carry the old invented URLs.
    Platform.objects.filter(
        slug__in=[slug for slug, _name in PLATFORMS], webhook_url__contains=".example/"
    ).update(webhook_url="")
    return platforms


def _providers_ensure(count: int, rng: random.Random, platforms: dict[str, Platform]) -> list[Provider]:
    existing = {p.nib: p for p in Provider.objects.filter(nib__in=[_nib(i) for i in range(count)])}
    now = timezone.now()
    new = []
    for index in range(count):
        if _nib(index) in existing:
            continue
        district, _lat, _lon = VENUES[index % len(VENUES)]
        name = _provider_name(index)
        new.append(
            Provider(
                legal_name=name,
                nib=_nib(index),
                description=f"{name} melatih peserta sejak {2005 + index % 15} dengan instruktur bersertifikat BNSP.",
                address=f"{STREETS[index % len(STREETS)]} No. {10 + index}",
                district_id=district,
                contact_name="Bagian Kemitraan",
                contact_email=f"kemitraan{index}@lembaga.example",
                contact_phone=f"+62812{index:08d}",
                status=ProviderStatus.VERIFIED,
                status_reason="Dokumen lengkap (data demo).",
                applied_at=now - datetime.timedelta(days=60),
                decided_at=now - datetime.timedelta(days=50),
            )
        )
    Provider.objects.bulk_create(new, batch_size=500)
    providers = list(Provider.objects.filter(nib__in=[_nib(i) for i in range(count)]).order_by("nib"))
    have = set(ProviderAffiliation.objects.values_list("provider_id", "platform_id"))
    affiliations = []
    for index, slug, relationship in AFFILIATIONS:
        if index < len(providers) and (providers[index].pk, platforms[slug].pk) not in have:
            affiliations.append(
                ProviderAffiliation(
                    provider=providers[index], platform=platforms[slug], relationship=relationship
                )
            )
    ProviderAffiliation.objects.bulk_create(affiliations)
    return providers


def _description(title: str, category: str, mode: str, rng: random.Random) -> str:
    audience = rng.choice(AUDIENCES)
    return (
        f"Pelatihan {title} membekali peserta dengan keterampilan yang langsung dapat dipakai untuk bekerja "
        f"atau membuka usaha. Cocok untuk {audience}.\n\n"
        f"Metode belajar: {METHODS[mode]}. Peserta yang lulus evaluasi akhir mendapat sertifikat."
    )


def catalog_build(*, trainings: int = 300, seed: int = 2020) -> BuildResult:
    """Create the demo catalog up to ``trainings`` approved trainings. Only adds what is missing."""
    rng = random.Random(seed)
    platforms = platforms_ensure()
    provider_count = max(len(PROVIDER_NAMES), trainings // 9)
    providers = _providers_ensure(provider_count, rng, platforms)
    now = timezone.now()

    existing_titles = set(Training.objects.filter(provider__in=providers).values_list("provider_id", "title"))
    plan = []
    planned: set[tuple[str, str]] = set()
    index = 0
    while len(plan) < trainings:
        provider = providers[index % len(providers)]
        round_number = index // len(providers)
        prng = random.Random(f"{seed}:{provider.nib}:{round_number}")
        category = prng.choice(_focus(provider.legal_name))
        level = prng.choice(list(TrainingLevel))
        stem = prng.choice(TITLES[category])
        title = f"{stem}{LEVEL_SUFFIX[level]}"
        if round_number >= 3:
            title = f"{title} - Angkatan {round_number - 1}"
        index += 1
        if (provider.nib, title) in planned:
            continue
        planned.add((provider.nib, title))
        plan.append((provider, title, category, level, prng))

    new_trainings = []
    for number, (provider, title, category, level, prng) in enumerate(plan):
        if (provider.pk, title) in existing_titles:
            continue
        mode = prng.choices(list(TrainingMode), weights=[6, 3, 2])[0]
        venue = VENUES[(number + prng.randrange(len(VENUES))) % len(VENUES)]
        approved_at = now - datetime.timedelta(days=prng.randrange(1, 200), minutes=number)
        new_trainings.append(
            Training(
                provider=provider,
                title=title,
                description=_description(title, category, mode, prng),
                category=category,
                level=level,
                mode=mode,
                duration_hours=prng.choice([4, 6, 8, 10, 12, 16, 20, 24, 32]),
                price=prng.choice(PRICES),
                address=f"{STREETS[number % len(STREETS)]} No. {number % 90 + 1}"
                if mode == TrainingMode.OFFLINE
                else "",
                district_id=venue[0] if mode == TrainingMode.OFFLINE else None,
                latitude=Decimal(venue[1]) if mode == TrainingMode.OFFLINE else None,
                longitude=Decimal(venue[2]) if mode == TrainingMode.OFFLINE else None,
                status=TrainingStatus.APPROVED,
                submitted_at=approved_at - datetime.timedelta(days=3),
                decided_at=approved_at,
                created_at=approved_at - datetime.timedelta(days=5),
            )
        )
    # Both PostgreSQL and SQLite return the new primary keys from bulk_create.
    fresh = Training.objects.bulk_create(new_trainings, batch_size=500)

    sessions = []
    listings = []
    slugs = [slug for slug, _name in PLATFORMS]
    for training in fresh:
        prng = random.Random(f"{seed}:listing:{training.pk}")
        if training.mode == TrainingMode.WEBINAR:
            for week in (1, 2, 4):
                start = (now + datetime.timedelta(days=7 * week + prng.randrange(0, 5))).replace(
                    hour=prng.choice([2, 6, 12]), minute=0, second=0, microsecond=0
                )  # 09:00, 13:00 or 19:00 WIB
                sessions.append(TrainingSession(training=training, starts_at=start))
        for slug in prng.sample(slugs, k=prng.choices([1, 2, 3], weights=[5, 3, 2])[0]):
            discount = prng.choice([0, 0, 0, 0, 10_000, 25_000])
            price = max(training.price - discount, 50_000) if discount < training.price else training.price
            listings.append(
                Listing(
                    training=training,
                    platform=platforms[slug],
                    sku=f"PRK-{slug[:3].upper()}-{training.pk:06d}",
                    url=f"https://{slug}.example/prakerja/pelatihan/{training.pk}",
                    price=min(price, training.price),
                )
            )
    TrainingSession.objects.bulk_create(sessions, batch_size=1000, ignore_conflicts=True)
    Listing.objects.bulk_create(listings, batch_size=1000, ignore_conflicts=True)
    catalog_version_bump()  # written in bulk, not through the services
    return BuildResult(
        platforms=len(platforms),
        providers=len(providers),
        trainings=Training.objects.filter(provider__in=providers).count(),
        listings=Listing.objects.filter(training__provider__in=providers).count(),
    )


def _applications_ensure(platforms: dict[str, Platform]) -> None:
    """Three applications waiting for an officer, with (tiny) documents to open."""
    pending = [
        ("LPK Maju Bersama Karawang", "32.15.01", None),
        ("Kursus Digital Kreatif Medan", "12.71.17", None),
        ("Akademi Daring Sejahtera", "31.74.07", "sekolahmu"),
    ]
    for index, (name, district, affiliated) in enumerate(pending):
        nib = f"9130{index:09d}"
        provider, created = Provider.objects.get_or_create(
            nib=nib,
            defaults={
                "legal_name": name,
                "address": f"Jl. Pahlawan No. {index + 3}",
                "district_id": district,
                "contact_name": "Sri Rahayu",
                "contact_email": f"pendaftaran{index}@lembaga.example",
                "contact_phone": f"+62813{index:08d}",
                "description": "Lembaga baru yang mengajukan diri sebagai mitra pelatihan (data demo).",
            },
        )
        if not created:
            continue
        for kind in (
            DocumentKind.CURRICULUM,
            DocumentKind.SYLLABUS,
            DocumentKind.TRAINER_QUALIFICATIONS,
            DocumentKind.EVALUATION_METHOD,
        ):
            document = ProviderDocument(
                provider=provider,
                kind=kind,
                original_name=f"{kind}.pdf",
                content_type="application/pdf",
                size=len(DEMO_PDF),
                sha256="",
            )
            document.file.save(f"{kind}.pdf", ContentFile(DEMO_PDF), save=True)
        if affiliated:
            ProviderAffiliation.objects.create(
                provider=provider,
                platform=platforms[affiliated],
                relationship="Pemilik yang sama (data demo)",
            )


CERTIFICATE_DEMO_NOTE = "participant (wave 1) with a certificate (completed training) and an unused voucher"


def _demo_participant_with_certificate(stdout) -> DemoLogin | None:
    """A wave-1 participant who bought two trainings: one completed with a certificate, one not redeemed yet."""
    participant = (
        Participant.objects.filter(wave__number=1, status="active")
        .exclude(applicant__user__email=PARTICIPANT_EMAIL)
        .select_related("applicant__user")
        .order_by("id")
        .first()
    )
    if participant is None:
        return None
    user = participant.applicant.user
    if not user.has_usable_password():
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    demo_user(user.email)  # a verified email address, so the login works
    if Purchase.objects.filter(participant=participant).exists():
        return DemoLogin(user.email, CERTIFICATE_DEMO_NOTE)
    offers = (
        listings_visible()
        .filter(training__mode=TrainingMode.SELF_PACED, price__lte=300_000)
        .select_related("platform", "training")
        .order_by("platform__slug", "price", "pk")
    )
    chosen = []
    for listing in offers:
        if all(listing.platform_id != other.platform_id for other in chosen):
            chosen.append(listing)
        if len(chosen) == 2:
            break
    vouchers = []
    for listing in chosen:
        # Demo data: paid directly, as if the participant had entered the SMS code.
        purchase = Purchase.objects.create(
            participant=participant,
            listing=listing,
            platform=listing.platform,
            price=listing.price,
            channel=PurchaseChannel.PORTAL,
            created_at=timezone.now() - datetime.timedelta(days=20),
        )
        vouchers.append(_pay(purchase=purchase, user=user, phone=participant.applicant.phone))
    if vouchers:
        first = vouchers[0]
        voucher_redeem(code=first.code, platform_id=first.platform_id)
        completion_record(
            code=first.code,
            platform_id=first.platform_id,
            certificate_number=f"SERT/{first.platform.slug.upper()}/2026/{first.pk:05d}",
            score=88,
        )
        stdout.write(
            f"Marketplace demo: {user.email} has a certificate and an unused voucher "
            f"({vouchers[-1].display_code} on {vouchers[-1].platform.name})."
        )
    return DemoLogin(user.email, CERTIFICATE_DEMO_NOTE)


SETTLEMENT_PARTNER = "Simulator BNI"  # disbursement's demo bank partner


def _demo_settlements(stdout) -> None:
    """Every platform's redeemed vouchers recorded for settlement, a BNI settlement account per platform (on
    the loopback simulator), and one settlement paid: prepared by keuangan@, approved by keuangan2@."""
    from disbursement.models import PaymentPartner, PayoutBatch, SettlementAccount
    from disbursement.services import batch_approve, payout_apply_result, payout_mark_sending
    from disbursement.services.batches import batch_finish_if_done
    from disbursement.services.settlements import settlement_bank_account_set, settlement_batch_prepare
    from marketplace.services.settlements import platform_settlement_account, platform_settlements_sync
    from prakerja.models import User

    partner = PaymentPartner.objects.filter(name=SETTLEMENT_PARTNER).first()
    preparer = User.objects.filter(email="keuangan@prakerja.test").first()
    approver = User.objects.filter(email="keuangan2@prakerja.test").first()
    if partner is None or preparer is None or approver is None:
        return
    recorded = platform_settlements_sync()
    for platform in Platform.objects.order_by("pk"):
        account = platform_settlement_account(platform)
        if not account.has_bank_account:
            settlement_bank_account_set(
                account_id=account.pk,
                partner=partner,
                channel="bni",
                account_number=f"8800{platform.pk:06d}",
                holder_name=f"PT {platform.name.upper()}"[:200],
                actor=preparer,
            )
    if PayoutBatch.objects.filter(settlement_account__isnull=False).exists():
        return
    account = SettlementAccount.objects.filter(items__payout__isnull=True).order_by("name").distinct().first()
    if account is None:
        return
    batch = settlement_batch_prepare(account_id=account.pk, actor=preparer)
    batch_approve(batch_id=batch.pk, officer=approver, send=False)
    for payout_id in batch.payouts.values_list("id", flat=True):
        payout_mark_sending(payout_id=payout_id)
        payout_apply_result(payout_id=payout_id, status="paid", partner_id=f"SIM-DEMO-{payout_id}")
    batch_finish_if_done(batch_id=batch.pk)
    stdout.write(
        f"Marketplace demo: {recorded} redeemed vouchers recorded for settlement; settlement batch #{batch.pk} "
        f"to {account.name} paid (console: Platform settlement accounts)."
    )


def demo_load(*, stdout) -> list[DemoLogin]:
    result = catalog_build(trainings=300)
    platforms = platforms_ensure()
    _applications_ensure(platforms)
    stdout.write(
        f"Marketplace: {result.platforms} platforms, {result.providers} verified providers, "
        f"{result.trainings} trainings, {result.listings} listings. Catalog: /pelatihan/"
    )
    # One API credential per platform, issued on the first run only (the secret is shown once).
    for platform in platforms.values():
        if not PlatformCredential.objects.filter(platform=platform).exists():
            issued = platform_credential_issue(platform_id=platform.pk, actor=None)
            stdout.write(
                f"  platform API {platform.slug}: key id {issued.credential.key_id} secret {issued.secret}"
            )
    logins = []
    certificate = _demo_participant_with_certificate(stdout)
    if certificate:
        logins.append(certificate)
    _demo_settlements(stdout)
    logins.extend(_assessors_ensure(stdout))
    stdout.write(
        "  Try the platform API: manage.py platform_simulator --platform tokopedia "
        f"--card-of {PARTICIPANT_EMAIL} --code-from db"
    )
    return logins


ASSESSOR_EMAIL = "asesor@prakerja.test"


def _assessors_ensure(stdout) -> list[DemoLogin]:
    """An accredited assessor institution with an assessor account; the demo certificate's training
    ends with its assessment and the result is recorded (competent)."""
    from marketplace.enums import AssessmentResult
    from marketplace.models import AssessorInstitution, CompetencyAssessment, Completion
    from marketplace.services import assessment_record, assessor_assign, training_assessment_set

    institution = AssessorInstitution.objects.filter(licence_number="BNSP-LSP-1234-ID").first()
    if institution is None:
        institution = AssessorInstitution.objects.create(
            name="LSP Teknologi Digital Nusantara",
            licence_number="BNSP-LSP-1234-ID",
            contact_email="lsp@lsp-tdn.example.id",
        )
        AssessorInstitution.objects.create(
            name="LSP Pariwisata dan Kuliner", licence_number="BNSP-LSP-5678-ID"
        )
    user = demo_user(ASSESSOR_EMAIL, first_name="Rahmat", last_name="Asesor", staff=True)
    if not hasattr(user, "assessor"):
        assessor_assign(user=user, institution_id=institution.pk, actor=None)
        user.refresh_from_db()
    completion = (
        Completion.objects.select_related("voucher__training")
        .filter(participant__wave__number=1)
        .order_by("pk")
        .first()
    )
    if completion is not None and not CompetencyAssessment.objects.filter(completion=completion).exists():
        training_assessment_set(
            training_id=completion.voucher.training_id, institution_id=institution.pk, actor=None
        )
        assessment_record(
            actor=user,
            verification_code=completion.verification_code,
            result=AssessmentResult.COMPETENT,
            assessed_on=timezone.localtime(completion.completed_at).date(),
            certificate_number=f"BNSP/TDN/2026/{completion.pk:05d}",
        )
        stdout.write(
            f"  Competency assessment: {completion.voucher.training.title} is assessed by {institution.name}; "
            f"result recorded for certificate {completion.display_verification_code}."
        )
    return [DemoLogin(ASSESSOR_EMAIL, f"Competency Assessor, {institution.name}")]
