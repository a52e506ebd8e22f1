"""The language files: complete, valid sentences, and what the README lists."""

from __future__ import annotations

from pathlib import Path
import re

from homeassistant.components.conversation.trigger import (
    has_no_punctuation,
    is_valid_sentence,
)
import probatio as vol
import pytest

from custom_components.switchboard.hub import _ERROR_KEYS
from custom_components.switchboard.voice.destinations import (
    means_last_caller,
    spoken_number,
    strip_back,
)
from custom_components.switchboard.voice.handlers import _SAME_REASON, HANDLERS
from custom_components.switchboard.voice.phrases import (
    ERRORS,
    LANGUAGES,
    REPLIES,
    SENTENCES_DIR,
    read_phrases,
)

README = Path(__file__).parents[2] / "README.md"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_intent_reply_and_error(language: str) -> None:
    phrases = read_phrases(SENTENCES_DIR / f"{language}.yaml")
    assert phrases.language == language
    assert set(phrases.sentences) == {handler.key for handler in HANDLERS}
    for sentences in phrases.sentences.values():
        assert sentences
        assert has_no_punctuation(list(sentences))
        assert is_valid_sentence(list(sentences))
    assert set(phrases.replies) == set(REPLIES)
    assert set(phrases.errors) == set(ERRORS)


def test_every_error_the_hub_raises_has_a_reason() -> None:
    keys = {key for _, key in _ERROR_KEYS} | {"provider_error", "action_not_supported"}
    assert keys - set(_SAME_REASON) <= set(ERRORS)
    assert set(_SAME_REASON.values()) <= set(ERRORS)


def test_a_file_with_a_reply_missing_or_a_wrong_placeholder_is_refused(
    tmp_path: Path,
) -> None:
    english = (SENTENCES_DIR / "en.yaml").read_text()
    missing = tmp_path / "missing.yaml"
    missing.write_text(re.sub(r"\n  no_phones: .*", "", english))
    with pytest.raises(vol.Invalid):
        read_phrases(missing)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(english.replace("Answered {caller}", "Answered {callr}"))
    with pytest.raises(vol.Invalid, match="callr"):
        read_phrases(wrong)


def test_the_readme_lists_exactly_the_sentences() -> None:
    voice = README.read_text().split("\n## Voice\n", 1)[1].split("\n## ", 1)[0]
    listed = {
        line
        for block in re.findall(r"```text\n(.*?)```", voice, re.DOTALL)
        for line in block.splitlines()
        if not line.startswith("# ")
    }
    sentences = {
        sentence
        for language in LANGUAGES
        for intent_sentences in read_phrases(
            SENTENCES_DIR / f"{language}.yaml"
        ).sentences.values()
        for sentence in intent_sentences
    }
    assert listed == sentences


def test_back_is_left_out_around_a_name() -> None:
    phrases = read_phrases(SENTENCES_DIR / "en.yaml")
    assert strip_back("back Pizza Place back", phrases) == "Pizza Place"
    assert strip_back("Back", phrases) == ""
    nl = read_phrases(SENTENCES_DIR / "nl.yaml")
    assert strip_back("Pizza Place terug", nl) == "Pizza Place"


@pytest.mark.parametrize(
    ("language", "said", "number"),
    [
        ("en", "+1 (555) 0100-002", "+15550100002"),
        ("en", "plus 1 555 0100 002", "+15550100002"),
        ("fr", "le 06 12 34 56 78", "0612345678"),
        ("es", "más 34 600 000 000", "+34600000000"),
        ("de", "0 30 / 123 45", "03012345"),
        ("en", "Pizza Place", None),
        ("en", "555 Pizza", None),
        ("en", "7", None),
    ],
)
def test_a_number_said_aloud(language: str, said: str, number: str | None) -> None:
    phrases = read_phrases(SENTENCES_DIR / f"{language}.yaml")
    assert spoken_number(said, phrases) == number


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "the last caller"),
        ("en", ""),
        ("de", "den letzten Anrufer"),
        ("fr", "le dernier appelant"),
        ("es", "último que llamó"),
        ("nl", "de laatste beller"),
    ],
)
def test_the_last_caller_said(language: str, said: str) -> None:
    phrases = read_phrases(SENTENCES_DIR / f"{language}.yaml")
    assert means_last_caller(said, phrases)
    assert not means_last_caller("Pizza Place", phrases)
