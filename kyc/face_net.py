"""dlib's face-recognition ResNet as a numpy forward pass.

The installed dlib is built without BLAS, so its convolutions run on dlib's own
matrix code. This module runs the same network, with the same weights, read once
from the same ``dlib_face_recognition_resnet_model_v1.dat`` file, as im2col +
float32 matrix products on numpy's BLAS. Its 128 numbers equal dlib's
``compute_face_descriptor`` (one jitter) to about 1e-6 (``tests/kyc/test_face_net.py``
compares them on real photos), so distances and verdicts do not change.

The network (dlib's ``dnn_face_recognition_ex.cpp``), input a 150x150 RGB chip
cut by ``dlib.get_face_chip``: conv 7x7/2 (32) -> affine -> relu -> max pool 3x3/2
-> 3 blocks of 32 -> 4 of 64 (the first halves the size) -> 3 of 128 -> 3 of 256
-> 1 of 256 (halving) -> mean over the picture -> 256x128 matrix. A block is
conv 3x3 -> affine -> relu -> conv 3x3 -> affine, added to its input (averaged
2x2 and padded with zero channels when the block halves the size) -> relu.

dlib's serialization, as far as this file needs it: integers are one byte (low
4 bits: how many little-endian bytes follow, bit 7: negative) then the bytes; a
string is its length then its bytes; a tensor is a version (2), four
dimensions and then little-endian float32 values. The layers are stored in
forward order, each after its name (``con_4``, ``affine_``, ``fc_2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# input_rgb_image's mean pixel, subtracted before dividing by 256 (stored in the
# model file too; checked against it when the weights are read).
MEAN_RGB = (122.782, 117.001, 104.298)
CHIP_SIZE = 150
# (channels, blocks, the first block halves the size) from the input upwards.
LEVELS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))


class ModelFileError(Exception):
    """The model file is not the network this module implements."""


@dataclass(frozen=True)
class Conv:
    weights: np.ndarray  # (kh * kw * channels in, filters), rows ordered (row, column, channel)
    bias: np.ndarray  # (filters,)
    size: int  # kh == kw
    stride: int
    padding: int


@dataclass(frozen=True)
class Affine:
    gamma: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True)
class FaceNet:
    first: tuple[Conv, Affine]
    blocks: tuple[tuple[Conv, Affine, Conv, Affine, bool], ...]  # ..., halves the size
    fc: np.ndarray  # (256, 128)


class _Reader:
    def __init__(self, data: bytes, offset: int):
        self.data = data
        self.offset = offset

    def integer(self) -> int:
        head = self.data[self.offset]
        size = head & 0x0F
        if size > 8:
            raise ModelFileError(f"bad integer at {self.offset}")
        value = int.from_bytes(self.data[self.offset + 1 : self.offset + 1 + size], "little")
        self.offset += 1 + size
        return -value if head & 0x80 else value

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise ModelFileError(f"unknown tensor version at {self.offset}")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.offset)
        self.offset += 4 * count
        return values.astype(np.float32).reshape(shape)


def _after_names(data: bytes, name: bytes) -> list[int]:
    """Offsets just after every serialized string ``name`` (length byte, then the name)."""
    marker = bytes([1, len(name)]) + name
    offsets, start = [], 0
    while (found := data.find(marker, start)) >= 0:
        offsets.append(found + len(marker))
        start = found + 1
    return offsets


def _conv(data: bytes, offset: int) -> Conv:
    reader = _Reader(data, offset)
    params = reader.tensor().reshape(-1)
    filters, rows, columns, stride_y, stride_x, pad_y, pad_x = (reader.integer() for _ in range(7))
    if rows != columns or stride_y != stride_x or pad_y != pad_x:
        raise ModelFileError("only square convolutions are implemented")
    count = params.size - filters
    if count % (filters * rows * columns):
        raise ModelFileError("convolution weights do not divide into filters")
    channels = count // (filters * rows * columns)
    kernel = params[:count].reshape(filters, channels, rows, columns)
    weights = np.ascontiguousarray(kernel.transpose(2, 3, 1, 0).reshape(rows * columns * channels, filters))
    return Conv(weights=weights, bias=params[count:].copy(), size=rows, stride=stride_y, padding=pad_y)


def _affine(data: bytes, offset: int) -> Affine:
    params = _Reader(data, offset).tensor().reshape(-1)
    half = params.size // 2
    return Affine(gamma=params[:half].copy(), beta=params[half:].copy())


def load(path: str | Path) -> FaceNet:
    """Read the weights of dlib's face-recognition ResNet from its model file."""
    data = Path(path).read_bytes()
    try:
        return _load(data)
    except (ValueError, IndexError) as exc:  # cut off or not dlib's format
        raise ModelFileError(str(exc)) from exc


def _load(data: bytes) -> FaceNet:
    convs = [_conv(data, offset) for offset in _after_names(data, b"con_4")]
    affines = [_affine(data, offset) for offset in _after_names(data, b"affine_")]
    fcs = _after_names(data, b"fc_2")
    inputs = _after_names(data, b"input_rgb_image_sized")
    expected = 1 + 2 * sum(blocks for _, blocks, _ in LEVELS)
    if len(convs) != expected or len(affines) != expected or len(fcs) != 1 or len(inputs) != 1:
        raise ModelFileError(f"{len(convs)} convolutions, {len(affines)} affine layers, {len(fcs)} fc")
    mean = _read_means(data, inputs[0])
    if not np.allclose(mean, MEAN_RGB, atol=1e-3):
        raise ModelFileError(f"unexpected input means {mean}")
    reader = _Reader(data, fcs[0])
    outputs, inputs_count = reader.integer(), reader.integer()
    fc = reader.tensor().reshape(inputs_count, outputs)
    blocks = []
    index = 1
    for channels, count, halves in LEVELS:
        for number in range(count):
            first, second = convs[index], convs[index + 1]
            halving = halves and number == 0
            if first.weights.shape[1] != channels or second.weights.shape[1] != channels:
                raise ModelFileError(f"convolution {index} does not have {channels} filters")
            if (first.size, first.stride, second.size, second.stride) != (3, 2 if halving else 1, 3, 1):
                raise ModelFileError(f"convolutions {index} and {index + 1} are not a residual block's")
            blocks.append((first, affines[index], second, affines[index + 1], halving))
            index += 2
    return FaceNet(first=(convs[0], affines[0]), blocks=tuple(blocks), fc=np.ascontiguousarray(fc))


def _read_means(data: bytes, offset: int) -> tuple[float, float, float]:
    """input_rgb_image's three means: dlib stores a float as mantissa and exponent integers."""
    reader = _Reader(data, offset)
    values = []
    for _ in range(3):
        mantissa, exponent = reader.integer(), reader.integer()
        values.append(float(np.float32(mantissa * 2.0**exponent)))
    return values[0], values[1], values[2]


# --- The forward pass (height, width, channels float32 arrays) ---------------------


def _conv_forward(x: np.ndarray, conv: Conv) -> np.ndarray:
    height, width, channels = x.shape
    k, s, p = conv.size, conv.stride, conv.padding
    out_h, out_w = 1 + (height + 2 * p - k) // s, 1 + (width + 2 * p - k) // s
    # im2col without a padded copy: each of the k*k taps is one strided slice of x;
    # the taps that fall on the zero padding stay zero.
    columns = (np.zeros if p else np.empty)((out_h, out_w, k * k, channels), dtype=np.float32)
    for row in range(k):
        # output rows whose input row (o * s + row - p) lies inside x
        first_h = max(0, -((row - p) // s)) if row < p else 0
        last_h = min(out_h, (height - 1 - row + p) // s + 1)
        for column in range(k):
            first_w = max(0, -((column - p) // s)) if column < p else 0
            last_w = min(out_w, (width - 1 - column + p) // s + 1)
            top, left = first_h * s + row - p, first_w * s + column - p
            columns[first_h:last_h, first_w:last_w, row * k + column, :] = x[
                top : top + s * (last_h - first_h - 1) + 1 : s,
                left : left + s * (last_w - first_w - 1) + 1 : s,
                :,
            ]
    out = columns.reshape(out_h * out_w, k * k * channels) @ conv.weights
    out += conv.bias
    return out.reshape(out_h, out_w, -1)


def _affine_forward(x: np.ndarray, affine: Affine) -> np.ndarray:
    x *= affine.gamma
    x += affine.beta
    return x


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


def _max_pool_3x3_2(x: np.ndarray) -> np.ndarray:
    height, width, _ = x.shape
    out_h, out_w = 1 + (height - 3) // 2, 1 + (width - 3) // 2
    out = None
    for row in range(3):
        for column in range(3):
            window = x[row : row + 2 * (out_h - 1) + 1 : 2, column : column + 2 * (out_w - 1) + 1 : 2, :]
            out = window.copy() if out is None else np.maximum(out, window, out=out)
    return out


def _avg_pool_2x2_2(x: np.ndarray) -> np.ndarray:
    height, width, _ = x.shape
    out_h, out_w = 1 + (height - 2) // 2, 1 + (width - 2) // 2
    h, w = 2 * out_h, 2 * out_w
    total = x[0:h:2, 0:w:2] + x[0:h:2, 1:w:2] + x[1:h:2, 0:w:2] + x[1:h:2, 1:w:2]
    total /= np.float32(4)
    return total


def _add_padded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b, the smaller one padded with zeros at the end of each dimension (dlib's add_prev)."""
    if a.shape == b.shape:
        a += b
        return a
    shape = tuple(max(i, j) for i, j in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, dtype=np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2]] += b
    return out


def encode_chip(net: FaceNet, chip: np.ndarray) -> np.ndarray:
    """The 128 numbers for one 150x150x3 uint8 RGB chip (``dlib.get_face_chip``), as float64."""
    if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError(f"a face chip is {CHIP_SIZE}x{CHIP_SIZE}x3, not {chip.shape}")
    x = (chip.astype(np.float32) - np.asarray(MEAN_RGB, dtype=np.float32)) / np.float32(256)
    conv, affine = net.first
    x = _max_pool_3x3_2(_relu(_affine_forward(_conv_forward(x, conv), affine)))
    for conv1, affine1, conv2, affine2, halves in net.blocks:
        y = _relu(_affine_forward(_conv_forward(x, conv1), affine1))
        y = _affine_forward(_conv_forward(y, conv2), affine2)
        x = _relu(_add_padded(_avg_pool_2x2_2(x) if halves else x, y))
    pooled = x.reshape(-1, x.shape[2]).mean(axis=0, dtype=np.float32)
    return (pooled @ net.fc).astype(np.float64)
