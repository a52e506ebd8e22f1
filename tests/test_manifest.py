"""What hassfest and HACS check, checked here too: keys, services, translations."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.util.yaml import load_yaml_dict

from custom_components.switchboard.providers.model import CallAction

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "switchboard"
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_manifest_has_what_hassfest_and_hacs_require() -> None:
    manifest = load_json(INTEGRATION / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "cloud_push"
    assert manifest["dependencies"] == ["application_credentials", "http", "webhook"]
    assert manifest["after_dependencies"] == ["cloud"]
    assert manifest["requirements"] == []
    for key in ("codeowners", "documentation", "issue_tracker", "version"):
        assert manifest[key]
    assert manifest["documentation"].startswith("https://")


def test_hacs_json_uses_only_known_keys() -> None:
    hacs = load_json(ROOT / "hacs.json")
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "Switchboard"
    assert re.fullmatch(r"20\d\d\.\d+\.\d+", hacs["homeassistant"])


def test_every_action_is_described_and_has_an_icon() -> None:
    services = load_yaml_dict(INTEGRATION / "services.yaml")
    strings = load_json(INTEGRATION / "translations" / "en.json")["services"]
    icons = load_json(INTEGRATION / "icons.json")["services"]
    assert set(services) == set(strings) == set(icons)
    for name, service in services.items():
        assert strings[name]["name"]
        assert strings[name]["description"]
        assert set(service.get("fields", {})) == set(strings[name].get("fields", {}))


def test_every_translation_key_the_code_raises_exists() -> None:
    strings = load_json(INTEGRATION / "translations" / "en.json")
    code = "\n".join(path.read_text() for path in INTEGRATION.rglob("*.py"))
    keys = set(re.findall(r'translation_key="([a-z_]+)"', code))
    # The hub names the call an action lacks: no_call_to_<action> (dial needs none).
    keys |= {
        f"no_call_to_{action}" for action in CallAction if action is not CallAction.DIAL
    }
    issues = {
        "no_webhook_url",
        "no_https_url",
        "webhook_url_changed",
        "webhook_elsewhere",
        "webhook_off",
        "stream_refused",
    }
    keys -= {*issues, "cloud"}  # issues and a selector
    keys -= {key for platform in strings["entity"].values() for key in platform}
    assert keys <= set(strings["exceptions"])
    assert set(strings["issues"]) == issues
    assert set(strings["selector"]["cloud"]["options"]) == {"global", "usgov", "dod"}
    aborts = set(re.findall(r'reason="([a-z_]+)"', code))
    assert aborts <= set(strings["config"]["abort"])
    errors = set(re.findall(r'"base": "([a-z_]+)"', code))
    errors |= set(re.findall(r'CONF_PUBLIC_KEY: "([a-z_]+)"', code))
    assert errors <= set(strings["config"]["error"])


def test_no_url_inside_a_translation() -> None:
    """Hassfest refuses URLs in strings: they come in as placeholders."""
    text = (INTEGRATION / "translations" / "en.json").read_text()
    assert not re.findall(r"https?://", text)


def test_entity_translations_match_the_entities() -> None:
    strings = load_json(INTEGRATION / "translations" / "en.json")["entity"]
    icons = load_json(INTEGRATION / "icons.json")["entity"]
    assert set(strings["sensor"]["call"]["state"]) == {
        "idle",
        "ringing",
        "dialing",
        "talking",
        "on_hold",
    }
    event_types = strings["event"]["call"]["state_attributes"]["event_type"]["state"]
    assert set(event_types) == {"incoming", "answered", "ended", "missed", "digits"}
    for platform, keys in strings.items():
        assert set(keys) == set(icons[platform])


def test_brand_icon_ships_with_the_integration() -> None:
    icon = INTEGRATION / "brand" / "icon.png"
    assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_provider_clients_never_import_home_assistant() -> None:
    for path in (INTEGRATION / "providers").glob("*.py"):
        source = path.read_text()
        imports = re.findall(r"^\s*(?:from|import)\s+(\S+)", source, re.MULTILINE)
        assert not [name for name in imports if name.startswith("homeassistant")], path
