"""CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED and BATCH_MATMUL against ai-edge-litert's
reference kernels, and CONV_2D additionally against a direct loop formulation (tolerance 1e-5 relative)."""
import numpy as np
import pytest

from oracles import check, one_op, rand, run_reference

CONV_CASES = [
    # (input NHWC, weights OHWI, padding, strides (h, w), dilations (h, w))
    ((1, 7, 9, 3), (4, 3, 3, 3), "SAME", (1, 1), (1, 1)),
    ((1, 7, 9, 3), (4, 3, 3, 3), "SAME", (2, 2), (1, 1)),
    ((2, 8, 6, 3), (5, 3, 2, 3), "VALID", (2, 1), (1, 1)),
    ((1, 9, 11, 2), (3, 3, 3, 2), "SAME", (1, 1), (2, 2)),
    ((1, 10, 10, 4), (2, 5, 5, 4), "SAME", (3, 2), (1, 1)),
    ((1, 11, 11, 2), (3, 3, 3, 2), "VALID", (2, 2), (2, 3)),
    ((1, 1, 1, 8), (6, 1, 1, 8), "SAME", (1, 1), (1, 1)),
    ((1, 1, 1, 3), (2, 3, 3, 3), "SAME", (2, 2), (1, 1)),
    ((1, 6, 6, 8), (6, 3, 3, 4), "SAME", (1, 1), (1, 1)),  # 2 groups
    ((1, 5, 7, 6), (9, 3, 1, 2), "VALID", (1, 2), (1, 1)),  # 3 groups
]



def conv_loop(x, w, bias, padding, strides, dilations):
    """Independent formulation: explicit output loop with TFLite's SAME padding rule."""
    n, h, wd, c = x.shape
    o, kh, kw, cg = w.shape
    groups = c // cg
    eff = [(k - 1) * d + 1 for k, d in zip((kh, kw), dilations)]
    if padding == "SAME":
        out = [-(-s // st) for s, st in zip((h, wd), strides)]
        pads = [max((oo - 1) * st + e - s, 0) // 2 for oo, st, e, s in zip(out, strides, eff, (h, wd))]
    else:
        out = [(s - e) // st + 1 for s, e, st in zip((h, wd), eff, strides)]
        pads = [0, 0]
    y = np.zeros((n, out[0], out[1], o), np.float64)
    for oy in range(out[0]):
        for ox in range(out[1]):
            for i in range(kh):
                for j in range(kw):
                    iy = oy * strides[0] - pads[0] + i * dilations[0]
                    ix = ox * strides[1] - pads[1] + j * dilations[1]
                    if 0 <= iy < h and 0 <= ix < wd:
                        for oc in range(o):
                            g = oc // (o // groups)
                            y[:, oy, ox, oc] += x[:, iy, ix, g * cg:(g + 1) * cg] @ w[oc, i, j].astype(np.float64)
    return y + (0 if bias is None else bias)


def conv_options(padding, strides, dilations, act="NONE"):
    return {"padding": padding, "stride_h": strides[0], "stride_w": strides[1], "dilation_h_factor": dilations[0],
            "dilation_w_factor": dilations[1], "fused_activation_function": act}


@pytest.mark.parametrize("xs,ws,padding,strides,dilations", CONV_CASES)
def test_conv_2d(xs, ws, padding, strides, dilations):
    x, w, b = rand(xs, 1), rand(ws, 2), rand(ws[:1], 3)
    (y,) = check("CONV_2D", [x, w, b], conv_options(padding, strides, dilations))
    want = conv_loop(x, w, b, padding, strides, dilations)
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-5 * max(1, np.abs(want).max()))


def test_conv_2d_without_bias():
    """TFLite's kernel insists on a bias tensor; the IR allows omitting it (the loop oracle decides)."""
    x, w = rand((1, 6, 5, 4), 4), rand((4, 3, 3, 2), 5)
    inputs = [x, w, None]
    (y,) = run_reference(one_op("CONV_2D", inputs, conv_options("SAME", (2, 1), (1, 1))), inputs)
    want = conv_loop(x, w, None, "SAME", (2, 1), (1, 1))
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-5 * max(1, np.abs(want).max()))


CONV_ACT_INPUTS = [rand((1, 5, 5, 3), 4), rand((4, 3, 3, 3), 5, low=-0.5, high=0.5), rand((4,), 6)]


@pytest.mark.parametrize("act", ["RELU", "RELU6", "RELU_N1_TO_1"])
def test_conv_2d_fused_activation(act):
    check("CONV_2D", CONV_ACT_INPUTS, conv_options("SAME", (1, 1), (1, 1), act))


def test_fused_tanh_is_applied():
    """TFLite's kernels ignore (CONV_2D) or reject (ADD, FULLY_CONNECTED...) a fused TANH; the schema means
    tanh of the result, which is what we evaluate: litert's plain convolution, then tanh."""
    (plain,) = check("CONV_2D", CONV_ACT_INPUTS, conv_options("SAME", (1, 1), (1, 1)))
    op = one_op("CONV_2D", CONV_ACT_INPUTS, conv_options("SAME", (1, 1), (1, 1), "TANH"))
    (fused,) = run_reference(op, CONV_ACT_INPUTS)
    np.testing.assert_allclose(fused, np.tanh(plain), rtol=0, atol=1e-6)


@pytest.mark.parametrize("xs,k,mult,padding,strides,dilations", [
    ((1, 7, 9, 3), 3, 1, "SAME", (1, 1), (1, 1)),
    ((1, 7, 9, 3), 3, 2, "SAME", (2, 2), (1, 1)),
    ((2, 8, 8, 4), 5, 1, "VALID", (1, 2), (1, 1)),
    ((1, 9, 10, 2), 3, 3, "SAME", (1, 1), (2, 2)),
    ((1, 1, 1, 5), 3, 1, "SAME", (2, 2), (1, 1)),
    ((1, 6, 5, 2), 2, 2, "VALID", (2, 2), (1, 1)),
])
def test_depthwise_conv_2d(xs, k, mult, padding, strides, dilations):
    c = xs[3]
    opts = {**conv_options(padding, strides, dilations, "RELU6"), "depth_multiplier": mult}
    check("DEPTHWISE_CONV_2D", [rand(xs, 6), rand((1, k, k, c * mult), 7), rand((c * mult,), 8)], opts)


@pytest.mark.parametrize("xs,ws,out_hw,padding,strides,bias", [
    ((1, 4, 5, 3), (2, 3, 3, 3), (8, 10), "SAME", (2, 2), True),
    ((1, 4, 5, 3), (2, 3, 3, 3), (7, 9), "SAME", (2, 2), False),
    ((1, 4, 4, 2), (3, 4, 4, 2), (10, 10), "VALID", (2, 2), True),
    ((2, 3, 3, 2), (2, 2, 2, 2), (6, 6), "VALID", (2, 2), False),
    ((1, 5, 3, 2), (4, 3, 3, 2), (5, 3), "SAME", (1, 1), True),
    ((1, 3, 3, 4), (2, 3, 2, 4), (9, 7), "SAME", (3, 3), True),
    ((1, 1, 1, 3), (2, 3, 3, 3), (2, 2), "SAME", (2, 2), True),
])
def test_transpose_conv(xs, ws, out_hw, padding, strides, bias):
    shape = np.array([xs[0], out_hw[0], out_hw[1], ws[0]], np.int32)
    inputs = [shape, rand(ws, 9), rand(xs, 10), rand(ws[:1], 11) if bias else None]
    opts = {"padding": padding, "stride_h": strides[0], "stride_w": strides[1]}
    check("TRANSPOSE_CONV", inputs, opts, live=(2,), out_dtypes=["float32"])


@pytest.mark.parametrize("xs,out,keep,bias,act", [
    ((3, 8), 5, False, True, "NONE"),
    ((2, 3, 8), 4, True, True, "RELU"),
    ((2, 3, 8), 4, False, False, "RELU6"),
    ((1, 16), 1, False, True, "RELU_N1_TO_1"),
    ((4, 2, 6), 3, False, True, "NONE"),
])
def test_fully_connected(xs, out, keep, bias, act):
    inputs = [rand(xs, 12), rand((out, xs[-1]), 13), rand((out,), 14) if bias else None]
    check("FULLY_CONNECTED", inputs, {"keep_num_dims": keep, "fused_activation_function": act})


@pytest.mark.parametrize("xs,ys,adj_x,adj_y", [
    ((3, 4), (4, 5), False, False),
    ((2, 3, 4), (2, 4, 5), False, False),
    ((2, 4, 3), (2, 4, 5), True, False),
    ((2, 3, 4), (2, 5, 4), False, True),
    ((2, 1, 3, 4), (3, 4, 2), False, False),
    ((1, 3, 4), (5, 2, 4), False, True),
])
def test_batch_matmul(xs, ys, adj_x, adj_y):
    check("BATCH_MATMUL", [rand(xs, 15), rand(ys, 16)], {"adj_x": adj_x, "adj_y": adj_y}, live=(0, 1))
