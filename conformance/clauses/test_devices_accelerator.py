"""DEV: the Trainer's accelerator argument: names it accepts, and what it says where the
device asked for is missing (these clauses run on machines without CUDA)."""

import re

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.clauses._devices import fit_settings, require_no_cuda

CONNECTOR = "lightning/pytorch/trainer/connectors/accelerator_connector.py::_AcceleratorConnector"


@clause(
    "DEV-018",
    "accelerator='cuda' where torch sees no CUDA device raises: the accelerator is not available.",
    source=f"{CONNECTOR}._set_parallel_devices_and_init_accelerator",
)
@requires("devices")
def test_cuda_without_device_rejected(target):
    require_no_cuda("DEV-018")
    message = ("`CUDAAccelerator` can not run on your system since the accelerator is not"
               " available.")

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        target.fit(target.module(), **fit_settings(accelerator="cuda", devices=1))


@clause(
    "DEV-019",
    "accelerator='gpu' where torch sees no GPU raises MisconfigurationException: no gpu backend.",
    source=f"{CONNECTOR}._choose_gpu_accelerator_backend",
)
@requires("devices")
def test_gpu_without_device_rejected(target):
    require_no_cuda("DEV-019")

    with pytest.raises(target.pl.MisconfigurationException,
                       match=re.escape("No supported gpu backend found!")):
        target.fit(target.module(), **fit_settings(accelerator="gpu", devices=1))


@clause(
    "DEV-020",
    "An unknown accelerator name raises ValueError 'You selected an invalid accelerator name'.",
    source=f"{CONNECTOR}._check_config_and_set_final_flags",
    changes=("accelerator_auto_default",),
)
@requires("devices")
def test_unknown_accelerator_rejected(target, contract):
    # Note: the names after "auto" follow the accelerator registry's order, which varies.
    auto = contract.has("accelerator_auto_default")
    message = ("You selected an invalid accelerator name: `accelerator='npu'`. Available names"
               " are: " + ("auto, " if auto else ""))

    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        target.fit(target.module(), **fit_settings(accelerator="npu"))

    listed = str(raised.value).split(" are: ", 1)[1].rstrip(".").split(", ")
    assert auto == ("auto" in listed)  # 1.9 accepts "auto" but does not list it
