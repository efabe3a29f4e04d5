"""The request body: exactly the seed provider's, for the same inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aura_sdk import KNOWN_MODELS, Message, Model, assistant, chat_body, system, user
from aura_sdk._config import ClientConfig
from aura_sdk._request import chat_request, models_request


def seed_body(
    messages: list[dict[str, str]], *, temperature: float = 0.5, max_tokens: int = 8192
) -> dict[str, Any]:
    """What gpt4free's Aura provider built (transcribed from the seed's algorithm)."""
    system_message = []
    chat = []
    for message in messages:
        if message["role"] == "system":
            system_message.append(message["content"])
        else:
            chat.append(message)
    return {
        "model": {
            "id": "openchat_3.6",
            "name": "OpenChat 3.6 (latest)",
            "maxLength": 24576,
            "tokenLimit": max_tokens,
        },
        "messages": chat,
        "key": "",
        "prompt": "\n".join(system_message),
        "temperature": temperature,
    }


def test_protocol_notes_example_is_byte_for_byte() -> None:
    expected = (
        '{"model": {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)", "maxLength": 24576,'
        ' "tokenLimit": 8192}, "messages": [{"role": "user", "content": "Hi"}], "key": "",'
        ' "prompt": "S", "temperature": 0.5}'
    )
    body = chat_body([system("S"), user("Hi")], model="openchat_3.6")
    assert json.dumps(body) == expected


@pytest.mark.parametrize(
    ("messages", "temperature", "max_tokens"),
    [
        ([{"role": "user", "content": "Hi"}], 0.5, 8192),
        (
            [
                {"role": "system", "content": "A"},
                {"role": "user", "content": "1"},
                {"role": "system", "content": "B"},
                {"role": "assistant", "content": "2"},
                {"role": "user", "content": "3"},
            ],
            0.0,
            100,
        ),
        ([{"role": "assistant", "content": "x"}, {"role": "user", "content": ""}], 2, 24576),
        ([{"role": "user", "content": "héllo ✓ 🙂"}], 1.25, 1),
    ],
)
def test_body_equals_seed(
    messages: list[dict[str, str]], temperature: float, max_tokens: int
) -> None:
    body = chat_body(
        messages,  # type: ignore[arg-type]
        model="openchat_3.6",
        temperature=temperature,
        max_tokens=max_tokens,
    )
    assert body == seed_body(messages, temperature=temperature, max_tokens=max_tokens)
    assert list(body) == ["model", "messages", "key", "prompt", "temperature"]


def test_system_argument_goes_first_in_prompt() -> None:
    body = chat_body([system("B"), user("Hi")], model="openchat_3.6", system="A")
    assert body["prompt"] == "A\nB"
    assert body["messages"] == [user("Hi")]


def test_messages_are_copied_not_shared() -> None:
    message = user("Hi")
    body = chat_body([message], model="openchat_3.6")
    body["messages"][0]["content"] = "changed"
    assert message["content"] == "Hi"


@pytest.mark.parametrize(
    ("model", "descriptor"),
    [
        ("openchat_3.6", ["openchat_3.6", "OpenChat 3.6 (latest)", 24576, 512]),
        ("openchat_v3.2_mistral", ["openchat_v3.2_mistral", "OpenChat Aura", 24576, 512]),
        ("my-model", ["my-model", "my-model", 24576, 512]),
        (Model("x", "X", 1000, 4096), ["x", "X", 1000, 512]),
    ],
)
def test_model_descriptor(model: str | Model, descriptor: list[object]) -> None:
    body = chat_body([user("Hi")], model=model, max_tokens=512)
    assert list(body["model"].values()) == descriptor
    assert list(body["model"]) == ["id", "name", "maxLength", "tokenLimit"]


def test_known_models() -> None:
    assert set(KNOWN_MODELS) == {"openchat_3.6", "openchat_v3.2_mistral"}


def test_chat_request_carries_key_headers_and_url() -> None:
    config = ClientConfig.resolve(
        base_url="http://h:1/",
        api_key="sk-x",
        model="openchat_3.6",
        timeout=5,
        max_retries=0,
        headers={"X-Extra": "1"},
    )
    messages: list[Message] = [user("Hi"), assistant("Hello"), user("Again")]
    spec = chat_request(config, messages, temperature=None, max_tokens=10, system=None)
    assert (spec.method, spec.url) == ("POST", "http://h:1/api/chat")
    assert spec.headers["Content-Type"] == "application/json"
    assert spec.headers["X-Extra"] == "1"
    assert spec.headers["User-Agent"].startswith("aura-sdk/")
    body = json.loads(spec.content)
    assert body["key"] == "sk-x"
    assert body["temperature"] is None
    assert body["messages"] == messages
    models = models_request(config)
    assert models.url == "http://h:1/api/models"
    assert json.loads(models.content) == {"key": "sk-x"}


def test_non_ascii_is_sent_as_utf8() -> None:
    config = ClientConfig.resolve(
        base_url="http://h", api_key="", model="m", timeout=5, max_retries=0, headers=None
    )
    spec = chat_request(config, [user("é")], temperature=0.5, max_tokens=10, system=None)
    assert "é".encode() in spec.content
