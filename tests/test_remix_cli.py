"""`python -m adremix remix`: images and result.json in a folder, offline or with OpenAI,
brand kit from a file or from --logo/--colors; bad input refused with exit code 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from adremix.__main__ import main
from tests.app_server import ROOT
from tests.conftest import configure_app
from tests.fakes.openai_images import API_KEY, FakeOpenAIImages


@pytest.fixture
def files(tmp_path: Path) -> Path:
    source = Image.new("RGB", (900, 700), (200, 60, 40))
    ImageDraw.Draw(source).ellipse((300, 200, 600, 500), fill=(250, 220, 50))
    source.save(tmp_path / "ad.jpg")
    logo = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rounded_rectangle((0, 0, 299, 119), radius=20, fill=(230, 0, 200, 255))
    logo.save(tmp_path / "logo.png")
    (tmp_path / "kit.json").write_text(
        json.dumps(
            {
                "name": "Chai Co",
                "colors": {"primary": "#1a73e8", "text": "#ffffff"},
                "font": "noto_sans",
                "logo": "logo.png",
                "tone": "Warm",
                "avoid_words": ["cheap"],
            }
        )
    )
    return tmp_path


def magenta_pixels(path: Path) -> int:
    image = Image.open(path).convert("RGB")
    return sum(1 for r, g, b in image.getdata() if r > 200 and g < 30 and b > 170)


def test_an_offline_batch_writes_every_image_and_result_json(files: Path) -> None:
    out = files / "out"
    code = main(
        [
            "remix", str(files / "ad.jpg"),
            "--instructions", "Diwali offer",
            "--brand-kit", str(files / "kit.json"),
            "--headline", "दिवाली धमाका",
            "--cta", "अभी खरीदें",
            "--language", "hi",
            "--placement", "square", "landscape",
            "--variations", "2",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert result["engine"] == "offline"
    assert result["files"] == [
        "square-1.png", "square-2.png", "landscape-1.png", "landscape-2.png"
    ]  # fmt: skip
    assert result["options"]["headline"] == "दिवाली धमाका"
    assert result["options"]["brand"]["colors"] == {"primary": "#1a73e8", "text": "#ffffff"}
    assert len(result["timings"]["per_image_ms"]) == 4 and result["timings"]["total_ms"] > 0
    assert Image.open(out / "landscape-1.png").size == (1536, 1024)
    assert magenta_pixels(out / "square-1.png") > 1000  # the kit's logo is on it


def test_logo_and_colours_can_be_given_without_a_kit_file(files: Path) -> None:
    out = files / "out"
    code = main(
        [
            "remix", str(files / "ad.jpg"), "--instructions", "Sale",
            "--logo", str(files / "logo.png"), "--colors", "#ff6600,#222222",
            "--cta", "Buy", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    brand = json.loads((out / "result.json").read_text())["options"]["brand"]
    assert brand["colors"] == {"primary": "#ff6600", "secondary": "#222222"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--colors", "#ff6600,blue"], "Colour"),
        (["--logo", "ad.jpg"], "PNG or WebP"),
        (["--logo", "missing.png"], "Cannot read the logo"),
    ],
)
def test_bad_brand_input_exits_2_and_writes_nothing(
    files: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = files / "out"
    extra = [str(files / a) if a.endswith((".jpg", ".png")) else a for a in extra]
    code = main(["remix", str(files / "ad.jpg"), "--instructions", "x", *extra, "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (out / "result.json").exists()


def test_an_svg_logo_is_refused(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    code = main(
        [
            "remix", str(files / "ad.jpg"), "--instructions", "x",
            "--logo", str(files / "logo.svg"), "--out", str(files / "out"),
        ]
    )  # fmt: skip
    assert code == 2 and "SVG" in capsys.readouterr().err


def test_the_openai_engine_sends_the_logo_and_writes_what_came_back(
    files: Path, openai_images: FakeOpenAIImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_app(monkeypatch, OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=openai_images.base_url)
    out = files / "out"
    code = main(
        [
            "remix", str(files / "ad.jpg"), "--instructions", "Festive",
            "--brand-kit", str(files / "kit.json"), "--engine", "openai",
            "--placement", "portrait", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    [request] = openai_images.requests
    assert len(request["image_sizes"]) == 2 and request["fields"]["input_fidelity"] == "high"
    assert Image.open(io.BytesIO((out / "portrait-1.png").read_bytes())).size == (1024, 1536)
    assert json.loads((out / "result.json").read_text())["engine"] == "openai"


def test_it_runs_as_a_module(files: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "adremix", "remix", str(files / "ad.jpg"),
         "--instructions", "x", "--out", str(files / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (files / "out" / "square-1.png").is_file()
