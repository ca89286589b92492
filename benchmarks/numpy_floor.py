"""Hand-written NumPy contenders (the floor): the same maths as the workloads with NumPy calls,
hand-derived gradients and the same optimizer update, float32 end to end, no framework.

W1 and W2 are the issue's floor; W3 (k*k slice-copy im2col and slice-add col2im, (C,N,H,W) inside)
and W4 (fused by hand where plain NumPy allows) are there for reference."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import w1_mlp, w2_tiny, w3_cnn, w4_transformer
from .common import Problem

AVAILABLE = ("W1", "W2", "W3", "W4")


def _layers(problem: Problem) -> list[tuple[np.ndarray, np.ndarray]]:
    n = len(problem.config["sizes"]) - 1
    return [(problem.params[f"{2 * i}.weight"].copy(), problem.params[f"{2 * i}.bias"].copy())
            for i in range(n)]


def build_w1(problem: Problem) -> Callable[[], float]:
    """ReLU MLP, softmax cross-entropy (mean), SGD with momentum (PyTorch's form: buf = m*buf + g,
    p -= lr*buf; a zero buffer makes the first step buf = g, as PyTorch does)."""
    layers = _layers(problem)
    bufs = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers]
    lr, momentum = w1_mlp.LR, w1_mlp.MOMENTUM
    batches, state = problem.batches, {"i": 0}
    last = len(layers) - 1

    def step() -> float:
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        n = x.shape[0]
        acts = [x]
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ w.T
            h += b
            if i < last:
                np.maximum(h, 0.0, out=h)
            acts.append(h)
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.log(s[:, 0]).mean() - shifted[rows, y].mean())
        g = e
        g /= s
        g[rows, y] -= 1.0
        g *= 1.0 / n
        for i in range(last, -1, -1):
            w, b = layers[i]
            h_in = acts[i]
            dw = g.T @ h_in
            db = g.sum(axis=0)
            if i > 0:
                g = g @ w
                g *= h_in > 0
            bw, bb = bufs[i]
            bw *= momentum
            bw += dw
            bb *= momentum
            bb += db
            w -= lr * bw
            b -= lr * bb
        return loss

    step.arrays = [a for pair in layers + bufs for a in pair]  # type: ignore[attr-defined]
    return step


def build_w2(problem: Problem) -> Callable[[], float]:
    """tanh MLP, MSE (mean), plain SGD."""
    (w0, b0), (w1, b1), (w2, b2) = _layers(problem)
    lr = w2_tiny.LR
    batches, state = problem.batches, {"i": 0}

    def step() -> float:
        x, t = batches[state["i"] % len(batches)]
        state["i"] += 1
        h1 = np.tanh(x @ w0.T + b0)
        h2 = np.tanh(h1 @ w1.T + b1)
        diff = h2 @ w2.T + b2 - t
        loss = float(np.mean(diff * diff))
        g = diff * (2.0 / diff.size)
        dw2, db2 = g.T @ h2, g.sum(axis=0)
        g = (g @ w2) * (1.0 - h2 * h2)
        dw1, db1 = g.T @ h1, g.sum(axis=0)
        g = (g @ w1) * (1.0 - h1 * h1)
        dw0, db0 = g.T @ x, g.sum(axis=0)
        for p, d in ((w0, dw0), (b0, db0), (w1, dw1), (b1, db1), (w2, dw2), (b2, db2)):
            p -= lr * d
        return loss

    step.arrays = [w0, b0, w1, b1, w2, b2]  # type: ignore[attr-defined]
    return step


class _Adam:
    """PyTorch's Adam/AdamW update (decoupled weight decay when ``weight_decay`` > 0), in place."""

    def __init__(self, params: dict[str, np.ndarray], lr: float, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params, self.lr, self.wd, self.eps = params, lr, weight_decay, eps
        self.b1, self.b2 = betas
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        b1, b2, lr = self.b1, self.b2, self.lr
        step_size = lr / (1.0 - b1 ** self.t)
        root_bc2 = (1.0 - b2 ** self.t) ** 0.5
        for k, p in self.params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            if self.wd:
                p *= 1.0 - lr * self.wd
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = np.sqrt(v)
            denom *= 1.0 / root_bc2
            denom += self.eps
            p -= step_size * (m / denom)


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy over rows and its gradient with respect to the logits."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.log(s[:, 0]).mean() - shifted[rows, y].mean())
    e /= s
    e[rows, y] -= 1.0
    e *= 1.0 / n
    return loss, e


def _conv_fwd(x: np.ndarray, w2: np.ndarray, b: np.ndarray, k: int):
    """Valid convolution in (C, N, H, W) layout: im2col as k*k contiguous slice copies into
    (C, k, k, N, Ho, Wo), then one matmul giving (O, N, Ho, Wo)."""
    c, n, h, w_ = x.shape
    ho, wo = h - k + 1, w_ - k + 1
    cols = np.empty((c, k, k, n, ho, wo), np.float32)
    for i in range(k):
        for j in range(k):
            cols[:, i, j] = x[:, :, i:i + ho, j:j + wo]
    cols = cols.reshape(c * k * k, n * ho * wo)
    out = w2 @ cols
    out += b[:, None]
    return out.reshape(-1, n, ho, wo), cols


def _col2im(dcols: np.ndarray, shape: tuple[int, ...], k: int) -> np.ndarray:
    """The adjoint of the im2col above: k*k strided slice adds, no np.add.at."""
    c, n, h, w_ = shape
    ho, wo = h - k + 1, w_ - k + 1
    d6 = dcols.reshape(c, k, k, n, ho, wo)
    dx = np.zeros(shape, np.float32)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + ho, j:j + wo] += d6[:, i, j]
    return dx


_QUADRANTS = ((0, 0), (0, 1), (1, 0), (1, 1))


def _pool_fwd(a: np.ndarray) -> np.ndarray:
    """2x2 max-pool as the maximum of four strided views (a reduction over 6-D is slower)."""
    q = [a[:, :, i::2, j::2] for i, j in _QUADRANTS]
    out = np.maximum(q[0], q[1])
    np.maximum(out, q[2], out=out)
    np.maximum(out, q[3], out=out)
    return out


def _pool_bwd(dout: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Route each gradient to the window's maximum (ties only occur at ReLU's zeros, whose
    gradient the ReLU mask removes afterwards)."""
    dx = np.empty_like(a)
    for i, j in _QUADRANTS:
        np.multiply(a[:, :, i::2, j::2] == out, dout, out=dx[:, :, i::2, j::2])
    return dx


def build_w3(problem: Problem) -> Callable[[], float]:
    """The CNN with activations in (C, N, H, W) layout, so every im2col/col2im move is a
    contiguous slice and every matmul is a plain 2-D product; Adam."""
    params = {k: v.copy() for k, v in problem.params.items()}
    opt = _Adam(params, w3_cnn.LR)
    c1, c2 = params["0.weight"].shape[0], params["3.weight"].shape[0]  # 8, 16 at width 1
    w_c1 = params["0.weight"].reshape(c1, -1)   # views: the optimizer updates them in place
    w_c2 = params["3.weight"].reshape(c2, -1)
    batches, state = problem.batches, {"i": 0}

    def step() -> float:
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        n = x.shape[0]
        x = x.reshape(1, n, 28, 28)                      # C = 1: (N,1,H,W) is (1,N,H,W)
        a1, cols1 = _conv_fwd(x, w_c1, params["0.bias"], 5)
        np.maximum(a1, 0.0, out=a1)
        p1 = _pool_fwd(a1)
        a2, cols2 = _conv_fwd(p1, w_c2, params["3.bias"], 5)
        np.maximum(a2, 0.0, out=a2)
        p2 = _pool_fwd(a2)
        flat = p2.transpose(1, 0, 2, 3).reshape(n, -1)  # PyTorch flattens C, H, W per sample
        logits = flat @ params["7.weight"].T
        logits += params["7.bias"]
        loss, g = _cross_entropy(logits, y)
        grads = {"7.weight": g.T @ flat, "7.bias": g.sum(axis=0)}
        dp2 = (g @ params["7.weight"]).reshape(n, c2, 4, 4).transpose(1, 0, 2, 3)
        da2 = _pool_bwd(dp2, a2, p2)
        da2 *= a2 > 0
        dz2 = da2.reshape(c2, -1)
        grads["3.weight"] = (dz2 @ cols2.T).reshape(c2, c1, 5, 5)
        grads["3.bias"] = dz2.sum(axis=1)
        dp1 = _col2im(w_c2.T @ dz2, p1.shape, 5)
        da1 = _pool_bwd(dp1, a1, p1)
        da1 *= a1 > 0
        dz1 = da1.reshape(c1, -1)
        grads["0.weight"] = (dz1 @ cols1.T).reshape(c1, 1, 5, 5)
        grads["0.bias"] = dz1.sum(axis=1)
        opt.step(grads)
        return loss

    step.arrays = [*params.values(), *opt.m.values(), *opt.v.values()]  # type: ignore[attr-defined]
    return step


_GELU_C = float(np.sqrt(2.0 / np.pi))


def _ln_fwd(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = xc
    xhat *= rstd
    return xhat * gamma + beta, (xhat, rstd)


def _ln_bwd(dy: np.ndarray, gamma: np.ndarray, cache, grads: dict, prefix: str) -> np.ndarray:
    xhat, rstd = cache
    flat_dy, flat_xhat = dy.reshape(-1, dy.shape[-1]), xhat.reshape(-1, xhat.shape[-1])
    grads[prefix + "weight"] = (flat_dy * flat_xhat).sum(axis=0)
    grads[prefix + "bias"] = flat_dy.sum(axis=0)
    dxhat = dy * gamma
    dx = dxhat - dxhat.mean(axis=-1, keepdims=True)
    dx -= xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    dx *= rstd
    return dx


def _lin(x: np.ndarray, params: dict, prefix: str) -> np.ndarray:
    out = x @ params[prefix + "weight"].T
    out += params[prefix + "bias"]
    return out


def _lin_bwd(g: np.ndarray, x: np.ndarray, params: dict, grads: dict, prefix: str) -> np.ndarray:
    g2, x2 = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
    grads[prefix + "weight"] = g2.T @ x2
    grads[prefix + "bias"] = g2.sum(axis=0)
    return g @ params[prefix + "weight"]


def build_w4(problem: Problem) -> Callable[[], float]:
    """Pre-LN causal Transformer LM, AdamW; attention with an explicit causal -inf mask."""
    c = problem.config
    params = {k: v.copy() for k, v in problem.params.items()}
    opt = _Adam(params, w4_transformer.LR, weight_decay=w4_transformer.WEIGHT_DECAY)
    d, heads, layers, vocab = c["d_model"], c["heads"], c["layers"], w4_transformer.VOCAB
    hd = d // heads
    scale = 1.0 / float(np.sqrt(hd))
    batches, state = problem.batches, {"i": 0}
    eye = np.eye(vocab, dtype=np.float32)

    def step() -> float:
        tokens, targets = batches[state["i"] % len(batches)]
        state["i"] += 1
        b, t = tokens.shape
        upper = np.triu(np.ones((t, t), bool), 1)
        x = params["tok.weight"][tokens] + params["pos.weight"][:t]
        caches = []
        for i in range(layers):
            p = f"blocks.{i}."
            h, ln1 = _ln_fwd(x, params[p + "ln1.weight"], params[p + "ln1.bias"])
            q, k, v = (_lin(h, params, p + n).reshape(b, t, heads, hd).transpose(0, 2, 1, 3)
                       for n in ("q.", "k.", "v."))
            s = q @ k.transpose(0, 1, 3, 2)
            s *= scale
            s[..., upper] = -np.inf
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            att = (s @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
            x = x + _lin(att, params, p + "proj.")
            h2, ln2 = _ln_fwd(x, params[p + "ln2.weight"], params[p + "ln2.bias"])
            u = _lin(h2, params, p + "fc1.")
            th = np.tanh(_GELU_C * (u + 0.044715 * (u * u * u)))
            y = 0.5 * u * (1.0 + th)
            x = x + _lin(y, params, p + "fc2.")
            caches.append((h, ln1, q, k, v, s, att, h2, ln2, u, th, y))
        hf, lnf = _ln_fwd(x, params["ln_f.weight"], params["ln_f.bias"])
        logits = _lin(hf, params, "head.")
        loss, g = _cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        grads: dict[str, np.ndarray] = {}
        g = _lin_bwd(g.reshape(b, t, vocab), hf, params, grads, "head.")
        dx = _ln_bwd(g, params["ln_f.weight"], lnf, grads, "ln_f.")
        for i in range(layers - 1, -1, -1):
            p = f"blocks.{i}."
            h, ln1, q, k, v, pr, att, h2, ln2, u, th, y = caches[i]
            dy = _lin_bwd(dx, y, params, grads, p + "fc2.")
            du = 0.5 * (1.0 + th) + (0.5 * _GELU_C) * u * (1.0 - th * th) * (
                1.0 + (3 * 0.044715) * (u * u))
            du *= dy
            dh2 = _lin_bwd(du, h2, params, grads, p + "fc1.")
            dx = dx + _ln_bwd(dh2, params[p + "ln2.weight"], ln2, grads, p + "ln2.")
            datt = _lin_bwd(dx, att, params, grads, p + "proj.")
            da = datt.reshape(b, t, heads, hd).transpose(0, 2, 1, 3)
            dpr = da @ v.transpose(0, 1, 3, 2)
            dv = pr.transpose(0, 1, 3, 2) @ da
            ds = dpr - (dpr * pr).sum(axis=-1, keepdims=True)
            ds *= pr
            ds *= scale
            dq = ds @ k
            dk = ds.transpose(0, 1, 3, 2) @ q
            dh = sum(_lin_bwd(dz.transpose(0, 2, 1, 3).reshape(b, t, d), h, params, grads, p + n)
                     for dz, n in ((dq, "q."), (dk, "k."), (dv, "v.")))
            dx = dx + _ln_bwd(dh, params[p + "ln1.weight"], ln1, grads, p + "ln1.")
        flat = dx.reshape(-1, d)
        grads["tok.weight"] = eye[tokens.reshape(-1)].T @ flat   # one-hot matmul, no add.at
        grads["pos.weight"] = np.zeros_like(params["pos.weight"])
        grads["pos.weight"][:t] = dx.sum(axis=0)
        opt.step(grads)
        return loss

    step.arrays = [*params.values(), *opt.m.values(), *opt.v.values()]  # type: ignore[attr-defined]
    return step


def build(problem: Problem) -> Callable[[], float]:
    builders = {"W1": build_w1, "W2": build_w2, "W3": build_w3, "W4": build_w4}
    if problem.name not in builders:
        raise KeyError(f"no hand-written NumPy version of {problem.name}")
    return builders[problem.name](problem)
