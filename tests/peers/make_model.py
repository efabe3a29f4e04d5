"""Write a tiny random-weight llama GGUF that llama.cpp loads and generates with.

Run under the peer's Python (it needs ``gguf`` and ``numpy``, which the SDK's own
environment does not): ``python make_model.py OUT.gguf``. Nothing is downloaded:
a llama architecture of two small layers, a SentencePiece vocabulary with the
byte-fallback tokens ``<0x00>``..``<0xFF>``, OpenChat's ``<|end_of_turn|>`` and a
few hundred word pieces. The output weights of every token but the word pieces
are zero, so that greedy decoding writes words, not stray bytes.
"""

from __future__ import annotations

import sys

import gguf
import numpy as np

DIM, HEADS, FF, LAYERS, CONTEXT = 64, 4, 128, 2, 2048
WORDS = (  # noqa: SIM905  (a paragraph reads better than 300 quoted words)
    "the of and to in is that it was for on are as with his they at be this from have "
    "or by one had not but what all were when we there can an your which their said if "
    "do will each about how up out them then she many some so these would other into has "
    "more her two like him see time could no make than first been its who now people my "
    "made over did down only way find use may water long little very after words called "
    "just where most know get through back much before go good new write our used me man "
    "too any day same right look think also around another came come work three word must "
    "because does part even place well such here take why things help put years different "
    "away again off went old number great tell men say small every found still between name "
    "should home big give air line set own under read last never us left end along while "
    "might next sound below saw something thought both few those always looked show large "
    "often together asked house world going want school important until form food keep "
    "children feet land side without boy once animals life enough took sometimes four head "
    "above kind began almost live page got earth need far hand high year mother light parts "
    "country father let night following picture being study second eyes soon times story "
    "boys since white days ever paper hard near sentence better best across during today "
    "others however sure means knew try told young miles sun ways thing whole hear example "
    "heard several change answer room sea against top turned learn point city play toward "
    "five using himself usually"
).split()


def main(path: str) -> None:
    tokens = ["<unk>", "<s>", "</s>", "<|end_of_turn|>"]
    types = [
        gguf.TokenType.UNKNOWN,
        gguf.TokenType.CONTROL,
        gguf.TokenType.CONTROL,
        gguf.TokenType.CONTROL,
    ]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    first_word = len(tokens)
    pieces = ["\u2581", *"abcdefghijklmnopqrstuvwxyz.,!?", *(f"\u2581{w}" for w in WORDS)]
    tokens += pieces
    types += [gguf.TokenType.NORMAL] * len(pieces)
    scores = [0.0] * first_word + [-float(i) for i in range(len(pieces))]
    vocab = len(tokens)

    rng = np.random.default_rng(20261202)

    def weights(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("aura-sdk-tiny-random")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(DIM)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(DIM // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(3)  # <|end_of_turn|>, as OpenChat's
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    output = weights(vocab, DIM, scale=1.0)
    output[:first_word] = 0.0  # never a control or byte token: words only
    writer.add_tensor("token_embd.weight", weights(vocab, DIM, scale=1.0))
    writer.add_tensor("output_norm.weight", np.ones(DIM, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for n in range(LAYERS):
        writer.add_tensor(f"blk.{n}.attn_norm.weight", np.ones(DIM, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{n}.{name}.weight", weights(DIM, DIM))
        writer.add_tensor(f"blk.{n}.ffn_norm.weight", np.ones(DIM, dtype=np.float32))
        writer.add_tensor(f"blk.{n}.ffn_gate.weight", weights(FF, DIM))
        writer.add_tensor(f"blk.{n}.ffn_up.weight", weights(FF, DIM))
        writer.add_tensor(f"blk.{n}.ffn_down.weight", weights(DIM, FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1])
