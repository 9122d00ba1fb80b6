"""The task layer: each task's model check, loss, metrics and decoding against hand-worked cases."""

from __future__ import annotations

import math

import pytest
import torch

from core.analysis.model_analysis import analyze_model
from core.data.datasets import DataError, Dataset, load_digits_dataset
from core.data.scenes import load_digit_scenes
from core.model.spec import LayerSpec
from core.presets import load_preset
from core.tasks import task_for
from core.tasks.detection import (
    DetectionLoss,
    DetectionMetrics,
    decode,
    decode_boxes,
    interpolated_ap11,
    precision_recall,
)
from core.tasks.segmentation import SegmentationMetrics, dice_loss, image_iou

# its module-scoped fixture trains: the module runs on one xdist worker, which trains once
pytestmark = pytest.mark.xdist_group("test_tasks")


@pytest.fixture(scope="module")
def scenes() -> Dataset:
    return load_digit_scenes("digit-scenes:n=64")


# -- the model-fits-data check, with the fix in words ----------------------------------------

def test_segmentation_presets_fit_digit_scenes(scenes: Dataset) -> None:
    for key in ("fcn32s_digits", "fcn16s_digits", "fcn8s_digits", "unet_digits",
                "fcn_skips_digits"):
        spec = load_preset(key)
        task_for(spec.task).check_fits(analyze_model(spec), scenes)


def test_wrong_channel_count_names_the_fix(scenes: Dataset) -> None:
    spec = load_preset("unet_digits")
    head = spec.layers[-1].with_params(out_channels=7)
    bad = spec.with_layers([*spec.layers[:-1], head])
    with pytest.raises(DataError, match="set out_channels of head to 11"):
        task_for("segmentation").check_fits(analyze_model(bad), scenes)
    det = load_preset("grid_detector_digits")
    bad = det.with_layers([*det.layers[:-1], det.layers[-1].with_params(out_channels=12)])
    with pytest.raises(DataError, match="set out_channels of head to 15"):
        task_for("detection").check_fits(analyze_model(bad), scenes)


def test_a_coarse_segmentation_output_is_told_to_upsample(scenes: Dataset) -> None:
    spec = load_preset("fcn8s_digits")
    without_head = spec.with_layers(spec.layers[:-1])  # ends at fuse_8: 11×8×8
    with pytest.raises(DataError, match="upsample by 8"):
        task_for("segmentation").check_fits(analyze_model(without_head), scenes)


def test_a_dataset_without_masks_or_boxes_is_refused() -> None:
    digits = load_digits_dataset()
    spec = load_preset("unet_digits")
    with pytest.raises(DataError, match="has no masks"):
        task_for("segmentation").check_fits(analyze_model(spec), digits)
    det = load_preset("grid_detector_digits")
    with pytest.raises(DataError, match="has no boxes"):
        task_for("detection").check_fits(analyze_model(det), digits)


def test_a_classifier_head_on_scenes_is_refused(scenes: Dataset) -> None:
    spec = load_preset("unet_digits")
    flat = spec.with_layers([*spec.layers, LayerSpec("flatten", "Flatten")])
    with pytest.raises(DataError, match="11 scores per pixel"):
        task_for("segmentation").check_fits(analyze_model(flat), scenes)


# -- segmentation metrics and loss -------------------------------------------------------------

def _logits(prediction: torch.Tensor, classes: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(prediction, classes).permute(0, 3, 1, 2).float() * 10


def test_segmentation_metrics_match_a_hand_computed_case() -> None:
    # truth:  0 0 / 1 2     prediction: 0 1 / 1 1
    truth = torch.tensor([[[0, 0], [1, 2]]])
    prediction = torch.tensor([[[0, 1], [1, 1]]])
    metrics = SegmentationMetrics(3)
    metrics.update(_logits(prediction, 3), truth)
    result = metrics.compute()
    # class 0: tp 1, fp 0, fn 1 → 1/2; class 1: tp 1, fp 2, fn 0 → 1/3; class 2: 0/1 → 0
    assert result["pixel_acc"] == pytest.approx(2 / 4)
    assert result["iou_0"] == pytest.approx(1 / 2)
    assert result["iou_1"] == pytest.approx(1 / 3)
    assert result["iou_2"] == pytest.approx(0.0)
    assert result["miou"] == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)
    assert image_iou(prediction[0], truth[0], 3) == pytest.approx(result["miou"])


def test_absent_classes_do_not_count_in_miou() -> None:
    metrics = SegmentationMetrics(4)
    truth = torch.tensor([[[0, 1], [1, 0]]])
    metrics.update(_logits(truth, 4), truth)
    result = metrics.compute()
    assert result["miou"] == 1.0 and math.isnan(result["iou_3"])


def test_dice_loss_is_zero_for_a_perfect_prediction_and_high_for_a_wrong_one() -> None:
    truth = torch.tensor([[[0, 1], [1, 0]]])
    assert float(dice_loss(_logits(truth, 2), truth)) == pytest.approx(0.0, abs=1e-3)
    # all wrong: per class (2·0 + 1) / (2 + 2 + 1) with the smoothing term 1 → loss 1 − 0.2
    assert float(dice_loss(_logits(1 - truth, 2), truth)) == pytest.approx(0.8, abs=1e-3)


# -- detection: decoding, loss, metrics --------------------------------------------------------

def _grid(cells: list[tuple[int, int, int, tuple[float, float, float, float]]],
          classes: int = 3, size: int = 4) -> torch.Tensor:
    """Raw outputs with objects at (row, col, class, (fx, fy, fw, fh)) — fractions turned into
    logits."""
    out = torch.full((1, 5 + classes, size, size), -10.0)
    for row, col, cls, fracs in cells:
        out[0, 0, row, col] = 10.0
        out[0, 1:5, row, col] = torch.logit(torch.tensor(fracs))
        out[0, 5 + cls, row, col] = 10.0
    return out


def test_box_decoding_reads_cell_offsets_and_image_fractions() -> None:
    # 4×4 grid on 64×64: cells of 16 px; cell row 1, column 2, centre at (0.5, 0.25) of the
    # cell, width 0.25 and height 0.5 of the image → centre (40, 20), box 16×32
    out = _grid([(1, 2, 1, (0.5, 0.25, 0.25, 0.5))])
    box = decode_boxes(out, (64, 64))[0, 1, 2]
    assert box.tolist() == pytest.approx([32.0, 4.0, 48.0, 36.0], abs=1e-3)
    found = decode(out, (64, 64), score=0.5)[0]
    assert found.labels.tolist() == [1] and len(found.boxes) == 1
    assert float(found.scores[0]) == pytest.approx(1.0, abs=1e-3)


def test_nms_removes_a_duplicate_of_another_cell_but_keeps_other_classes() -> None:
    out = _grid([(1, 1, 0, (0.99, 0.5, 0.9, 0.5)), (1, 3, 0, (0.01, 0.5, 0.9, 0.5))])
    out[0, 0, 1, 3] = 5.0  # the duplicate is less sure
    assert len(decode(out, (64, 64), score=0.5, nms=0.5)[0].boxes) == 1
    assert len(decode(out, (64, 64), score=0.5, nms=0.99)[0].boxes) == 2
    out[0, 5, 1, 3], out[0, 6, 1, 3] = -10.0, 10.0  # other class: NMS is per class
    assert len(decode(out, (64, 64), score=0.5, nms=0.5)[0].boxes) == 2


def test_detection_loss_is_small_when_the_grid_is_right() -> None:
    target = torch.tensor([[[1.0, 32.0, 4.0, 48.0, 36.0], [-1, -1, -1, -1, -1]]])
    right = _grid([(1, 2, 1, (0.5, 0.25, 0.25, 0.5))])
    wrong = _grid([(0, 0, 2, (0.5, 0.5, 0.1, 0.1))])
    loss = DetectionLoss((64, 64))
    assert float(loss(right, target)) < 0.05 < float(loss(wrong, target))


def test_eleven_point_ap_matches_the_hand_computed_value() -> None:
    # 3 detections by falling score: hit, miss, hit of 2 ground-truth boxes
    precision = torch.tensor([1.0, 0.5, 2 / 3])
    recall = torch.tensor([0.5, 0.5, 1.0])
    # r = 0 … 0.5 (6 points): best precision at recall ≥ r is 1; r = 0.6 … 1 (5): 2/3
    assert interpolated_ap11(recall, precision) == pytest.approx((6 + 5 * 2 / 3) / 11)


def test_detection_metrics_on_a_hand_computed_case() -> None:
    truth = torch.tensor([[[0.0, 0, 0, 16, 16], [1.0, 32, 32, 48, 48]]])
    metrics = DetectionMetrics(["a", "b"], (64, 64))
    # class 0 found exactly; class 1 missed (its box is elsewhere)
    out = torch.full((1, 7, 4, 4), -10.0)
    out[0, 0, 0, 0] = 10.0
    out[0, 1:5, 0, 0] = torch.logit(torch.tensor([0.5, 0.5, 0.25, 0.25]))
    out[0, 5, 0, 0] = 10.0
    out[0, 0, 3, 0] = 10.0
    out[0, 1:5, 3, 0] = torch.logit(torch.tensor([0.5, 0.5, 0.25, 0.25]))
    out[0, 6, 3, 0] = 10.0
    metrics.update(out, truth)
    result = metrics.compute()
    assert result["map50"] == pytest.approx(0.5, abs=0.01)
    assert result["map"] == pytest.approx(0.5, abs=0.01)
    assert result["ap_a"] == pytest.approx(1.0, abs=0.01)
    assert result["ap_b"] == pytest.approx(0.0, abs=0.01)
    assert result["ap11"] == pytest.approx(0.5)
    precision, recall, count = precision_recall(
        metrics.predictions, metrics.truths, label=1)
    assert count == 1 and recall.tolist() == [0.0] and precision.tolist() == [0.0]


# -- classification + localization -----------------------------------------------------------

def test_localization_loss_and_iou_on_a_hand_computed_case() -> None:
    from core.tasks.localization import LocalizationLoss, LocalizationMetrics

    # one 64×64 image, a box 16..48 × 0..32 of class 1 of 2
    target = torch.tensor([[[1.0, 16, 0, 48, 32]]])
    # the 4 box outputs are logits: their sigmoids are the fractions
    exact = torch.tensor([[-5.0, 5.0, *torch.logit(torch.tensor([0.5, 0.25, 0.5, 0.5]))]])
    shifted = torch.tensor([[-5.0, 5.0, *torch.logit(torch.tensor([0.75, 0.25, 0.5, 0.5]))]])
    loss = LocalizationLoss(2, (64, 64))
    assert float(loss(exact, target)) == pytest.approx(float(
        torch.nn.functional.cross_entropy(exact[:, :2], torch.tensor([1]))), abs=1e-6)
    # the box term of cx 0.75 for a truth of 0.5: its binary cross-entropy less the floor
    # ln 2, averaged over the 4 numbers, times the box weight 5
    bce = -(0.5 * math.log(0.75) + 0.5 * math.log(0.25)) - math.log(2)
    assert float(loss(shifted, target) - loss(exact, target)) == pytest.approx(
        5 * bce / 4, abs=1e-5)
    metrics = LocalizationMetrics(2, (64, 64))
    metrics.update(torch.cat([exact, shifted]), target.repeat(2, 1, 1))
    result = metrics.compute()
    # shifted by half its width: overlap 16×32 of union 48×32 → 1/3
    assert result["iou"] == pytest.approx((1 + 1 / 3) / 2, abs=1e-5) and result["acc"] == 1.0


def test_localizer_preset_fits_single_digit_scenes_only() -> None:
    spec = load_preset("localizer_digits")
    task = task_for(spec.task)
    task.check_fits(analyze_model(spec), load_digit_scenes("digit-scenes:n=16,max=1"))
    with pytest.raises(DataError, match="digit-scenes:max=1"):
        task.check_fits(analyze_model(spec), load_digit_scenes("digit-scenes:n=16"))
    scores = spec.index("class_scores")
    bad = spec.with_layers([*spec.layers[:scores], spec.layers[scores].with_params(
        out_features=9), *spec.layers[scores + 1:]])
    with pytest.raises(DataError, match=r"outputs 13 values .* joins must give 10 class scores"):
        task.check_fits(analyze_model(bad), load_digit_scenes("digit-scenes:n=16,max=1"))
    plain = spec.with_layers([*spec.layers[:spec.index("what") + 1],
                              LayerSpec("head", "Linear", {"out_features": 10})])
    with pytest.raises(DataError, match="set out_features of head to 14"):
        task.check_fits(analyze_model(plain), load_digit_scenes("digit-scenes:n=16,max=1"))
