"""Labelling a folder of images: the label set (classes, per-image boxes, masks and status),
its files (COCO JSON with RLE masks, a VOC folder of palette PNGs) and the model's suggestions.

Qt-free: the Label tab (app/label/) displays and edits what these modules hold.
"""
