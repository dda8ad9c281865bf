"""A tiny blueprint space and run settings (digits: 1 x 8 x 8, 10 classes), shared by the blueprint tests."""

import torch

from boed_nas.blueprint import BlueprintSpace, parse_stages

TINY_STAGES = "2,4:2:1;4,6:3:2"
TINY_SPACE = BlueprintSpace(parse_stages(TINY_STAGES), kernels=(1, 3), stem_channels=3, in_channels=1,
                            num_classes=10, input_size=8)  # digits: 1 x 8 x 8, 10 classes
TINY_RUN = dict(stages=TINY_STAGES, kernels=(1, 3), stem_channels=3, epochs=2, warmup_epochs=0, batch_size=16,
                data_limit=80, retrain_epochs=1, verbose=False, threads=1)


def _one_hot(space, bp):
    return torch.as_tensor(space.one_hot(bp), dtype=torch.float32)


def _warm_bn(model, shape, steps=3):
    """A few training-mode passes so BatchNorm running statistics are not the identity."""
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn(shape) * 2 + 0.5)
    model.eval()
