"""A tiny GGUF whose greedy reply is known: ``python _model.py OUT.gguf`` (the peer's python).

A llama-architecture model small enough to write at test time (3.7 MB, nothing
downloaded) with a SentencePiece vocabulary: ``<unk> <s> </s>``, the 256
byte-fallback tokens ``<0x00>``..``<0xFF>`` and a few word pieces. Its attention
and feed-forward weights are random (seeded, small), so every kernel of the
real forward pass runs on real numbers; the embeddings are one-hot and the output
matrix maps each token to its successor in ``CHAIN``, with a margin no sampler
setting or repeat penalty can overturn. So the reply is known in advance, whatever
the prompt: OpenChat's template ends in ``\\n`` (the byte token ``<0x0A>``), and the
chain from there spells ``REPLY``, then ``</s>`` (``finish_reason: "stop"``).

The chain spells ``é`` and an emoji byte by byte (the server must not split them
across events), then goes through an invalid UTF-8 byte (``0xFF``: the server
drops it, an empty content delta on the wire) in the middle of ``world``. The
server matches ``stop`` on the raw bytes and misses ``"world"``; a client sees it.
The multibyte characters come first because llama-cpp-python 0.3.36 holds back
everything after an invalid byte to the end of the reply, then decodes it token by
token, which drops a character spelt in byte tokens (the stream would lose it).

The module imports nothing outside the standard library at import time: the tests
(the SDK's venv, without ``gguf``) read ``REPLY`` and friends from it.
"""

from __future__ import annotations

import sys

__all__ = ["CHAIN", "N_CTX", "PIECES", "REPLY", "REPLY_RAW", "write"]

N_CTX = 256
"""The server's context (``--n_ctx``): a prompt past it is cheap to send."""

PIECES = ("▁", "▁Hello", ",", "▁wor", "ld", "!", "▁caf", "▁tick", "▁tock", "GPT", "▁Correct")
"""The word pieces after the byte tokens (``▁`` is SentencePiece's space)."""

CHAIN = (
    "<0x0A>",  # the template's last token: the reply starts after it
    "▁caf",
    "<0xC3>",  # é, in two byte tokens
    "<0xA9>",
    "▁",
    "<0xF0>",  # 😀, in four
    "<0x9F>",
    "<0x98>",
    "<0x80>",
    "▁Hello",
    ",",
    "▁wor",
    "<0xFF>",  # not UTF-8: the server drops it
    "ld",
    "!",
    "</s>",
)
"""Each token's greedy successor is the next one; every other token's is ``</s>``."""

REPLY = " café 😀 Hello, world!"
"""The text a client receives (the first piece's space included)."""

REPLY_RAW = b" caf\xc3\xa9 \xf0\x9f\x98\x80 Hello, wor\xffld!"
"""The bytes the model produces, which the server's ``stop`` matching sees."""

_N_EMBD = 288  # >= the vocabulary: one-hot embeddings
_N_HEAD = 4
_N_FF = 64
_N_LAYER = 2
_SIGNAL = 100.0  # the embedding's one hot value, against the residual's random noise
_MARGIN = 3.0  # the successor's logit is about _MARGIN * sqrt(_N_EMBD) = 51, the rest about 0


def vocabulary() -> list[str]:
    """The tokens, in id order: ``<unk> <s> </s>``, the bytes, then ``PIECES``."""
    return ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256)), *PIECES]


def write(path: str) -> None:
    """Write the model to ``path`` (needs ``gguf`` and ``numpy``: the peer's python)."""
    import gguf  # the peer's venv only (no stubs: pyproject's mypy overrides)
    import numpy as np
    import numpy.typing as npt

    tokens = vocabulary()
    ids = {token: i for i, token in enumerate(tokens)}
    n_vocab = len(tokens)
    assert n_vocab <= _N_EMBD
    successor = [ids["</s>"]] * n_vocab
    for token, following in zip(CHAIN, CHAIN[1:]):
        successor[ids[token]] = ids[following]

    rng = np.random.default_rng(12)

    def noise(*shape: int) -> npt.NDArray[np.float32]:
        return rng.normal(0.0, 0.02, shape).astype(np.float32)

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("aura-sdk tiny llama")
    writer.add_context_length(2048)
    writer.add_embedding_length(_N_EMBD)
    writer.add_block_count(_N_LAYER)
    writer.add_feed_forward_length(_N_FF)
    writer.add_head_count(_N_HEAD)
    writer.add_head_count_kv(_N_HEAD)
    writer.add_rope_dimension_count(_N_EMBD // _N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    scores = [0.0] * 259 + [-float(i) for i in range(len(PIECES))]
    writer.add_token_scores(scores)
    kinds = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    kinds += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * len(PIECES)
    writer.add_token_types(kinds)
    writer.add_unk_token_id(ids["<unk>"])
    writer.add_bos_token_id(ids["<s>"])
    writer.add_eos_token_id(ids["</s>"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    embed = np.zeros((n_vocab, _N_EMBD), np.float32)
    embed[np.arange(n_vocab), np.arange(n_vocab)] = _SIGNAL
    output = np.zeros((n_vocab, _N_EMBD), np.float32)
    output[successor, np.arange(n_vocab)] = _MARGIN
    ones = np.ones(_N_EMBD, np.float32)
    writer.add_tensor("token_embd.weight", embed)
    writer.add_tensor("output_norm.weight", ones)
    writer.add_tensor("output.weight", output)
    for layer in range(_N_LAYER):
        block = f"blk.{layer}"
        writer.add_tensor(f"{block}.attn_norm.weight", ones)
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{block}.{name}.weight", noise(_N_EMBD, _N_EMBD))
        writer.add_tensor(f"{block}.ffn_norm.weight", ones)
        writer.add_tensor(f"{block}.ffn_gate.weight", noise(_N_FF, _N_EMBD))
        writer.add_tensor(f"{block}.ffn_up.weight", noise(_N_FF, _N_EMBD))
        writer.add_tensor(f"{block}.ffn_down.weight", noise(_N_EMBD, _N_FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    write(sys.argv[1])
