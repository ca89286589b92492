"""Usage: python missing_names.py CASE

Each CASE makes a PyTorch program fail in one way: asking for a name backprop may lack (the
line marked with its CASE), or a plain bug. The tests run it under `backprop run` and check
the file and line it reports."""

# ruff: noqa: PLR0402 - written the way PyTorch programs are

import sys

if sys.argv[1] == "extra_missing":
    sys.modules["threadpoolctl"] = None  # as if the optional extra were not installed

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)


def import_missing():
    import torch.no_such_module  # CASE: import_submodule  # noqa: F401


def run(case):
    x = torch.ones(2, 3)
    if case == "import_submodule":
        import_missing()
    if case == "from_import":
        from torch.nn import NoSuchLayer  # CASE: from_import  # noqa: F401
    if case == "torch_attr":
        torch.no_such_function(x)  # CASE: torch_attr
    if case == "nn_attr":
        nn.NoSuchLayer(3)  # CASE: nn_attr
    if case == "F_attr":
        F.no_such_activation(x)  # CASE: F_attr
    if case == "tensor_method":
        x.no_such_method()  # CASE: tensor_method
    if case == "keyword":
        F.relu(x,  # CASE: keyword
               no_such_flag=True)
    if case == "keyword_class":
        nn.Linear(3, 4, no_such_flag=True)  # CASE: keyword_class
    if case == "keyword_module":
        net = Net()
        net.fc(x[:, :2], no_such_flag=True)  # CASE: keyword_module
    if case == "keyword_method":
        x.sum(no_such_flag=1)  # CASE: keyword_method
    if case == "in_neighbour":
        from missing_helper import norm_of
        norm_of(x)
    if case == "extra_missing":
        torch.set_num_threads(1)  # CASE: extra_missing
    if case == "bad_input":
        x.reshape(4, 5)  # CASE: bad_input
    if case == "own_attribute":
        print(Net().no_such_layer)  # CASE: own_attribute
    if case == "own_keyword":
        run(case, no_such_flag=True)  # CASE: own_keyword


if __name__ == "__main__":
    run(sys.argv[1])
