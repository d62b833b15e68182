"""Speech synthesised offline: many voices saying words, for the tests, default runs and benches.

Two Debian synthesisers, called as programs (`make data` installs them):

- ``espeak-ng``: English accents (`ESPEAK_ACCENTS`) times voice variants
  (`espeak_variants`: ``f1``, ``m3``, ``klatt2``, ...), each at a speed and
  pitch of its own;
- ``flite``: its own voices (`FLITE_VOICES`), which sound like no espeak voice;
  ``kal`` and ``kal16`` are one speaker (`FLITE_SPEAKERS`). Speed and pitch
  are set the way espeak's are: words per minute (a duration stretch of
  `BASE_SPEED` / speed) and 0-99 (the voice's own mean pitch, `FLITE_PITCH_HZ`,
  times 2 ** ((pitch - 50) / 50), an octave up at 100).

A `Voice` names one such speaker; `synthesize` returns its clip as mono
``float32`` samples at the requested rate (`data.audio.read_wav`), scaled
to a peak of `PEAK` so noise can be added without clipping.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from common.validation import check_positive_int
from data.audio import read_wav

ESPEAK = "espeak-ng"
FLITE = "flite"
ENGINES = (ESPEAK, FLITE)
ESPEAK_ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
)
"""espeak-ng's English accents that need no extra voice data (its mbrola voices do)."""
FLITE_SPEAKERS = (("kal", "kal16"), ("awb",), ("rms",), ("slt",))
"""flite's built-in voices that say any text, by speaker (``awb_time`` only tells the time)."""
FLITE_VOICES = tuple(voice for speaker in FLITE_SPEAKERS for voice in speaker)
FLITE_PITCH_HZ = {"kal": 103, "kal16": 94, "awb": 148, "rms": 96, "slt": 178}
"""Each flite voice's own mean pitch, Hz (measured: autocorrelation of its voiced frames)."""
BASE_SPEED = 160
"""A `Voice`'s default words per minute: espeak is asked for it; flite speaks at its own pace."""
BASE_PITCH = 50
"""A `Voice`'s default pitch (0-99): the voice's own."""
PEAK = 0.5
"""Peak amplitude of a synthesised clip."""
INSTALL_HINT = "install it with `sudo apt-get install espeak-ng flite` (or `make data` as root)"
TIMEOUT_SECONDS = 30


@dataclasses.dataclass(frozen=True)
class Voice:
    """One synthetic speaker.

    Attributes:
        engine: ``"espeak-ng"`` or ``"flite"``.
        name: An espeak accent with an optional ``+variant`` (``"en-gb+f2"``)
            or a flite voice (``"slt"``).
        speed: Words per minute (80-450).
        pitch: 0-99 (50: the voice's own pitch).
    """

    engine: str
    name: str
    speed: int = BASE_SPEED
    pitch: int = BASE_PITCH

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ValueError(
                f"Invalid value for argument `engine`. Expected one of {ENGINES}. "
                f"Received engine={self.engine!r}."
            )
        if self.engine == FLITE and self.name not in FLITE_VOICES:
            raise ValueError(
                f"Invalid value for argument `name`. flite's voices are {FLITE_VOICES}. "
                f"Received name={self.name!r}."
            )
        if not 80 <= self.speed <= 450 or not 0 <= self.pitch <= 99:
            raise ValueError(
                "Invalid value for arguments `speed` and `pitch`. Expected 80-450 words per "
                f"minute and 0-99. Received speed={self.speed}, pitch={self.pitch}."
            )

    @property
    def speaker(self) -> str:
        """Who speaks, without speed and pitch: ``espeak-ng:en-gb+f2``, ``flite:slt``."""
        return f"{self.engine}:{self.name}"


def _program(engine: str) -> str:
    path = shutil.which(engine)
    if path is None:
        raise FileNotFoundError(
            f"The speech synthesiser {engine} is not installed: {INSTALL_HINT}."
        )
    return path


def espeak_variants() -> tuple[str, ...]:
    """The voice variants espeak-ng has installed (``f1``, ``m3``, ``klatt2``, ...), sorted.

    Raises:
        FileNotFoundError: If espeak-ng is not installed, saying how to install it.
    """
    result = subprocess.run(
        [_program(ESPEAK), "--voices=variant"],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT_SECONDS,
    )
    variants = set()
    for line in result.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[-1].startswith("!v/"):
            variants.add(fields[-1].removeprefix("!v/"))
    return tuple(sorted(variants))


def _flite_pace(voice: Voice) -> list[str]:
    """The flite settings of ``voice``'s speed and pitch (none at the defaults)."""
    settings = []
    if voice.speed != BASE_SPEED:
        settings += ["--setf", f"duration_stretch={BASE_SPEED / voice.speed:.4f}"]
    if voice.pitch != BASE_PITCH:
        hertz = FLITE_PITCH_HZ[voice.name] * 2 ** ((voice.pitch - BASE_PITCH) / 50)
        settings += ["--setf", f"int_f0_target_mean={hertz:.1f}"]
    return settings


def synthesize(text: str, voice: Voice, sample_rate: int = 16000) -> np.ndarray:
    """``voice`` saying ``text``, as mono ``float32`` samples peaking at `PEAK`.

    Args:
        text: What is said.
        voice: Who says it.
        sample_rate: Rate of the returned samples, in Hz.

    Returns:
        ``float32 [samples]``.

    Raises:
        FileNotFoundError: If the voice's synthesiser is not installed.
        ValueError: If ``text`` is empty, or the synthesiser failed (its
            message quoted), timed out or returned silence.
    """
    check_positive_int("sample_rate", sample_rate)
    if not str(text).strip():
        raise ValueError("Invalid value for argument `text`. Expected words to say. Received ''.")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.wav"
        if voice.engine == ESPEAK:
            command = [_program(ESPEAK), "-v", voice.name, "-s", str(voice.speed)]
            command += ["-p", str(voice.pitch), "-w", str(path), "--", text]
        else:
            command = [_program(FLITE), "-voice", voice.name, *_flite_pace(voice)]
            command += ["-t", text, "-o", str(path)]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=TIMEOUT_SECONDS)
        except subprocess.CalledProcessError as error:
            message = error.stderr.decode(errors="replace").strip() or f"exit {error.returncode}"
            raise ValueError(f"{voice.speaker} failed to say {text!r}: {message}") from None
        except subprocess.TimeoutExpired:
            raise ValueError(
                f"{voice.speaker} took over {TIMEOUT_SECONDS} s to say {text!r}: use shorter texts."
            ) from None
        samples = read_wav(path, sample_rate)
    peak = float(np.max(np.abs(samples)))
    if peak == 0.0:
        raise ValueError(f"{voice.speaker} said nothing for {text!r}: try another voice.")
    return samples * np.float32(PEAK / peak)
