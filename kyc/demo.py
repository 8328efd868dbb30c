"""Demo KYC cases so a reviewer can try the queue at once (``manage.py load_demo``).

Built from real photographs (kyc/data/demo, MIT licence) through the real
services: one applicant verified by the system, one whose face matches that
verified applicant under another NIK (duplicate-face review), one with a
borderline distance (a slightly blurred KTP photo), and one applicant with a
complete profile who can try the upload. Idempotent; about a second of face
computation on the first run.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path

from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from kyc import engine
from kyc.models import KycCase
from kyc.services import kyc_photo_prepare, kyc_submission_create, kyc_submission_verify
from prakerja.demo import DemoLogin, demo_user
from registration.enums import CivilRegistryStatus, Education, EmploymentStatus, Gender
from registration.models import Applicant, District

DATA_DIR = Path(__file__).resolve().parent / "data" / "demo"
DISTRICT = "32.75.01"  # Bekasi Barat, Kota Bekasi, Jawa Barat
EMAIL_DOMAIN = "kyc.demo.prakerja.test"


# --- KTP-like cards (also used by the tests) -----------------------------------------


def portrait_crop(photo: Image.Image) -> Image.Image:
    """A 3:4 passport-style portrait around the largest face in ``photo``."""
    faces = engine.faces_detect(photo, side=1024) or engine.faces_detect(photo, side=2048, upsample=1)
    if not faces:
        raise ValueError("no face to cut a portrait from")
    left, top, right, bottom = faces[0]
    width = (right - left) * 2.0
    height = width * 4 / 3
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    box = (
        round(centre_x - width / 2),
        round(centre_y - height * 0.45),
        round(centre_x + width / 2),
        round(centre_y + height * 0.55),
    )
    return photo.crop(box)  # areas outside the photo come out black, as on a badly cut print


def ktp_card(
    portrait: Image.Image | None,
    *,
    nik: str = "3275011403950001",
    name: str = "NAMA CONTOH",
    width: int = 856,
    blur: float = 0.0,
) -> Image.Image:
    """A KTP-like card: the light-blue e-KTP layout, text fields and a small portrait on the right."""
    height = round(width * 54 / 85.6)
    card = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(card)
    for y in range(height):
        shade = y / height
        draw.line([(0, y), (width, y)], fill=(round(182 - 50 * shade), round(218 - 30 * shade), 240))
    unit = height / 100
    font = ImageFont.load_default(size=max(8, round(3.7 * unit)))
    heading = ImageFont.load_default(size=max(9, round(5.5 * unit)))
    draw.text((width / 2, 4 * unit), "PROVINSI JAWA BARAT", fill=(20, 20, 20), font=heading, anchor="mt")
    draw.text((width / 2, 11 * unit), "KOTA BEKASI", fill=(20, 20, 20), font=heading, anchor="mt")
    rows = [
        ("NIK", nik),
        ("Nama", name.upper()),
        ("Tempat/Tgl Lahir", "BEKASI, 14-03-1995"),
        ("Jenis Kelamin", "LAKI-LAKI"),
        ("Alamat", "JL. MERDEKA NO. 1"),
        ("RT/RW", "001/002"),
        ("Kel/Desa", "BINTARA"),
        ("Kecamatan", "BEKASI BARAT"),
        ("Agama", "ISLAM"),
        ("Status Perkawinan", "BELUM KAWIN"),
        ("Pekerjaan", "KARYAWAN SWASTA"),
        ("Kewarganegaraan", "WNI"),
        ("Berlaku Hingga", "SEUMUR HIDUP"),
    ]
    for number, (label, value) in enumerate(rows):
        y = (21 + number * 5.8) * unit
        draw.text((3 * width / 100, y), label, fill=(20, 20, 20), font=font)
        draw.text((25 * width / 100, y), f": {value}", fill=(20, 20, 20), font=font)
    if portrait is not None:
        photo_width = round(width * 0.2)
        photo_height = round(photo_width * 4 / 3)
        card.paste(
            portrait.convert("RGB").resize((photo_width, photo_height), Image.Resampling.LANCZOS),
            (round(width * 0.76), round(24 * unit)),
        )
    if blur:
        card = card.filter(ImageFilter.GaussianBlur(blur))
    return card


def jpeg(image: Image.Image, *, quality: int = 88) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- Demo applicants ----------------------------------------------------------------------


def _nik(serial: int, birth_date: datetime.date, gender: str) -> str:
    """District + DDMMYY (day + 40 for women) + a serial in 5001-5999, the demo's own range."""
    day = birth_date.day + (40 if gender == Gender.FEMALE else 0)
    return f"{DISTRICT.replace('.', '')}{day:02d}{birth_date:%m%y}{serial:04d}"


def _applicant(serial: int, *, first: str, last: str, gender: str, birth: datetime.date) -> Applicant:
    email = f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}"
    user = demo_user(email, first_name=first, last_name=last)
    district = District.objects.select_related("regency__province").get(code=DISTRICT)
    now = timezone.now()
    applicant, _created = Applicant.objects.get_or_create(
        user=user,
        defaults={
            "nik": _nik(serial, birth, gender),
            "kk_number": f"3275{serial:012d}",
            "full_name": f"{first} {last}",
            "birth_place": "Bekasi",
            "birth_date": birth,
            "gender": gender,
            "address": "Jl. Merdeka No. 1",
            "district": district,
            "regency": district.regency,
            "province": district.regency.province,
            "education": Education.SMA,
            "employment_status": EmploymentStatus.LAID_OFF,
            "declarations_version": "demo",
            "declarations_at": now,
            "consent_version": "demo",
            "consent_at": now,
            "profile_completed_at": now,
            "phone": f"+6281255{serial:06d}",
            "phone_verified_at": now,
            "civil_status": CivilRegistryStatus.VERIFIED,
            "civil_checked_at": now,
        },
    )
    return applicant


def _photo(name: str) -> Image.Image:
    with Image.open(DATA_DIR / name) as image:
        return image.convert("RGB")


def _submit(applicant: Applicant, *, selfie: str, portrait: str, blur: float = 0.0) -> None:
    """Upload and verify right away, through the same services as the portal (nothing if done)."""
    if KycCase.objects.filter(applicant=applicant).exclude(status="not_started").exists():
        return
    card = ktp_card(portrait_crop(_photo(portrait)), nik=applicant.nik, name=applicant.full_name, blur=blur)
    submission = kyc_submission_create(
        applicant=applicant,
        selfie_jpeg=kyc_photo_prepare(data=(DATA_DIR / selfie).read_bytes(), image="selfie"),
        ktp_jpeg=kyc_photo_prepare(data=jpeg(card), image="ktp"),
    )
    # The queued task finds it done and does nothing.
    kyc_submission_verify(submission_id=submission.id)


def demo_load(*, stdout) -> list[DemoLogin]:
    andi = _applicant(5001, first="Andi", last="Saputra", gender=Gender.MALE, birth=datetime.date(1990, 8, 4))
    bagus = _applicant(
        5002, first="Bagus", last="Pratama", gender=Gender.MALE, birth=datetime.date(1988, 2, 21)
    )
    citra = _applicant(
        5003, first="Citra", last="Handoko", gender=Gender.MALE, birth=datetime.date(1993, 11, 9)
    )
    dewi = _applicant(
        5004, first="Dewi", last="Kusuma", gender=Gender.FEMALE, birth=datetime.date(1997, 5, 17)
    )

    # Verified by the system; its selfie becomes a verified face.
    _submit(andi, selfie="obama_1.jpg", portrait="obama_3.jpg")
    # The same face again under another NIK: matches its own KTP, flagged as a duplicate.
    _submit(bagus, selfie="obama_2.jpg", portrait="obama_2.jpg")
    # A slightly blurred KTP photo: a borderline distance (about 0.5), for a reviewer to judge.
    _submit(citra, selfie="kit_harington_1.jpg", portrait="kit_harington_2.jpg", blur=1.75)
    stdout.write(
        "KYC demo: "
        + ", ".join(f"{a.full_name} {KycCase.objects.get(applicant=a).status}" for a in (andi, bagus, citra))
    )
    return [DemoLogin(dewi.user.email, "applicant, profile complete: try the KYC upload")]
