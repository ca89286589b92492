"""Every public name of ``torch.Tensor`` is ours too, or belongs to a family the README names
as left out, with its reason. A name we add must leave the list; a name PyTorch adds must be
built or sorted into a family."""

from __future__ import annotations

from typing import Any

import backprop as bp

# Each family: why backprop leaves it out, and its names on torch.Tensor.
LEFT_OUT: dict[str, tuple[str, set[str]]] = {
    "sparse": ("backprop's tensors are dense NumPy or CuPy arrays", {
        "ccol_indices", "coalesce", "col_indices", "crow_indices", "dense_dim", "indices",
        "is_coalesced", "resize_as_sparse_", "row_indices", "smm", "sparse_dim", "sparse_mask",
        "sparse_resize_", "sparse_resize_and_clear_", "sspaddmm", "to_sparse", "to_sparse_bsc",
        "to_sparse_bsr", "to_sparse_coo", "to_sparse_csc", "to_sparse_csr", "values"}),
    "quantized": ("no quantized dtypes (int8 with a scale and zero point)", {
        "dequantize", "int_repr", "q_per_channel_axis", "q_per_channel_scales",
        "q_per_channel_zero_points", "q_scale", "q_zero_point", "qscheme"}),
    "storage": ("memory is a NumPy or CuPy array, not a Storage object (share_memory_ and "
                "is_shared are ours: backprop.multiprocessing)", {
        "is_set_to", "record_stream", "set_", "storage", "storage_type", "untyped_storage"}),
    "other devices and layouts": ("CPU and CUDA (CuPy) only; every tensor is strided", {
        "ipu", "layout", "mtia", "to_mkldnn", "xpu"}),
    "nested and named tensors": ("no nested (ragged) or named tensors", {
        "name", "to_padded_tensor"}),
    "removed from PyTorch": ("PyTorch's own versions only raise, pointing to torch.linalg", {
        "eig", "lstsq", "solve", "symeig"}),
    "dtypes NumPy lacks": ("complex32 has no NumPy dtype (bfloat16 comes from ml_dtypes)", {
        "chalf"}),
    "Python-level internals": ("subclassing, module loading and legacy constructors PyTorch "
                               "keeps for its own machinery", {
        "as_subclass", "grad_dtype", "hash_tensor", "map2_", "module_load", "new",
        "reinforce", "resize", "resize_as", "slice_inverse", "volatile", "as_strided_",
        "is_distributed", "index"}),
}


def _left_out() -> set[str]:
    return set().union(*(names for _, names in LEFT_OUT.values()))


def test_every_pytorch_tensor_name_is_ours_or_left_out_with_a_reason(torch: Any) -> None:
    theirs = {name for name in dir(torch.Tensor) if not name.startswith("_")}
    missing = sorted(theirs - set(dir(bp.Tensor)) - _left_out())
    assert not missing, f"torch.Tensor names we neither have nor list as left out: {missing}"


def test_names_left_out_are_not_ours() -> None:
    stale = sorted(name for name in _left_out() if hasattr(bp.Tensor, name))
    assert not stale, f"names listed as left out that bp.Tensor now has: {stale}"
