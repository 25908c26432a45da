"""gguf_tokenizer.py: the tokenizer of one GGUF file copied into another
being written, for the scripts that derive test and bench models
(make-bench-model.py, make-moe-model.py, make-gemma3-fixture.py).
Needs the `gguf` package."""
from gguf import GGUFReader, GGUFValueType


def copy_tokenizer(w, src):
    """Every tokenizer.* key of src (a GGUFReader or a file's path) into the
    GGUFWriter w, types kept and strings as raw bytes (no re-decoding).
    Returns the vocabulary's size."""
    r = src if isinstance(src, GGUFReader) else GGUFReader(src)
    for key, f in r.fields.items():
        if not key.startswith("tokenizer."):
            continue
        main = f.types[0]
        if main == GGUFValueType.ARRAY:
            sub = f.types[-1]
            if sub == GGUFValueType.STRING:
                val = [bytes(f.parts[i]) for i in f.data]
            else:
                val = [f.parts[i][0].item() for i in f.data]
            w.add_key_value(key, val, GGUFValueType.ARRAY, sub_type=sub)
        elif main == GGUFValueType.STRING:
            w.add_key_value(key, bytes(f.parts[f.data[0]]), main)
        else:
            w.add_key_value(key, f.parts[f.data[0]][0].item(), main)
    return len(r.fields["tokenizer.ggml.tokens"].data)
