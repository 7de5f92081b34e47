"""``python -m lightning_conformance.crossversion generate``: the tool that made the shipped
checkpoints."""

from pathlib import Path

import torch

from lightning_conformance.crossversion import generate as checkpoints
from lightning_conformance.crossversion.generate import expected, generate, weights_checksum


def test_a_generated_checkpoint_holds_what_its_sidecar_says(tmp_path):
    path = generate("reference", tmp_path)
    sidecar = expected(path)
    saved = torch.load(path, weights_only=False)

    assert ("reference", path.name) == (sidecar["writer"], sidecar["file"])
    assert (sidecar["epoch"], sidecar["global_step"]) == (saved["epoch"], saved["global_step"])
    assert sidecar["weights_sha256"] == weights_checksum(saved["state_dict"])
    assert checkpoints.HPARAMS == sidecar["hparams"] == dict(saved["hyper_parameters"])


def test_the_same_tiny_fit_gives_the_same_weights_on_the_reference_and_on_lightning(tmp_path):
    ours = expected(generate("reference", tmp_path / "reference"))
    lightning = expected(generate("lightning", tmp_path / "lightning"))

    assert ours["weights_sha256"] == lightning["weights_sha256"]
    assert (ours["epoch"], ours["global_step"], ours["lr"]) == \
        (lightning["epoch"], lightning["global_step"], lightning["lr"])


def test_the_command_line_prints_the_checkpoint_it_wrote(tmp_path, capsys):
    code = checkpoints.main(["generate", "--target", "reference", "--out", str(tmp_path)])
    written = Path(capsys.readouterr().out.strip())

    assert 0 == code
    assert tmp_path == written.parent and written.exists()
    assert written.with_suffix(".json").exists()
