// data: one lane per stream, scrolling barcodes and a value band, the current value in numerals.
#version 330 core

uniform sampler2D lanes;     // R32F: x = history (oldest → newest, then one column of raw values), y = lane
uniform vec2 resolution;
uniform float time;
uniform float speed;
uniform float density;
uniform float flicker;

in vec2 uv;
out vec4 colour;

const float LABEL_WIDTH = 0.14;
const int GLYPHS[13] = int[13](31599, 29850, 29671, 31207, 18925, 31183, 31695, 18727, 31727, 31215, 8192, 448, 0);

// Dave Hoskins' sine-free hash: sin() is slow in software GL, and this is called per pixel.
float hash(vec2 p) {
    vec3 p3 = fract(vec3(p.xyx) * 0.1031);
    p3 += dot(p3, p3.yzx + 33.33);
    return fract((p3.x + p3.y) * p3.z);
}

// One 3×5 glyph (0–9, 10 = '.', 11 = '-', 12 = blank) in the unit cell p.
float glyph(int g, vec2 p) {
    if (p.x < 0.0 || p.x >= 1.0 || p.y < 0.0 || p.y >= 1.0) return 0.0;
    int column = int(p.x * 4.0), row = int((1.0 - p.y) * 6.0);
    if (column > 2 || row > 4) return 0.0;
    return float((GLYPHS[g] >> (row * 3 + column)) & 1);
}

// The value as ±DDD.DDDD in cell coordinates (x counts characters).
float numerals(float value, vec2 p) {
    int index = int(floor(p.x));
    if (index < 0 || index > 8) return 0.0;
    float magnitude = min(abs(value), 999.9999);
    int g;
    if (index == 0) g = value < 0.0 ? 11 : 12;
    else if (index == 4) g = 10;
    else {
        int power = index < 4 ? 3 - index : 3 - index + 1;  // digits: 10^2 10^1 10^0 . 10^-1 … 10^-4
        g = int(mod(floor(magnitude * pow(10.0, float(-power)) + 1e-4), 10.0));
        if (index < 3 && magnitude < pow(10.0, float(power))) g = 12;
    }
    return glyph(g, vec2(fract(p.x), p.y));
}

void main() {
    ivec2 size = textureSize(lanes, 0);
    int lane_count = size.y, history = size.x - 1;
    float lane_position = (1.0 - uv.y) * float(lane_count);
    int lane = min(int(lane_position), lane_count - 1);
    float within = fract(lane_position);
    float raw = texelFetch(lanes, ivec2(history, lane), 0).r;
    float now = texelFetch(lanes, ivec2(history - 1, lane), 0).r;
    float lane_height = resolution.y / float(lane_count);

    float ink;
    if (uv.x < LABEL_WIDTH) {
        // Numerals: glyph cells 0.6 of the lane high, square-ish pixels.
        float cell = lane_height * 0.6;
        vec2 p = vec2(gl_FragCoord.x / (cell * 0.8), (within - 0.2) / 0.6);
        ink = numerals(raw, vec2(p.x - 0.5, 1.0 - p.y)) * 0.9;
    } else {
        float x = (uv.x - LABEL_WIDTH) / (1.0 - LABEL_WIDTH);
        float value = texture(lanes, vec2(x * float(history) / float(size.x), (float(lane) + 0.5) / float(lane_count))).r;
        // Barcode: cells scroll left; where the value is high, more of them are bars.
        float pixels = gl_FragCoord.x + time * speed * resolution.x * 0.1;
        float cell = floor(pixels / mix(14.0, 2.0, density));
        float bar = step(hash(vec2(cell, float(lane))), value) * step(0.5, hash(vec2(cell * 0.37, float(lane) + 0.5)) + value * 0.5);
        // A bright band at the value's height in the lane.
        float band = smoothstep(2.5 / lane_height, 0.0, abs((1.0 - within) - value));
        ink = max(bar * mix(0.25, 0.8, now), band);
    }
    if (hash(vec2(float(lane), floor(time * 12.0))) < flicker * 0.3) ink = 1.0 - ink;
    float gutter = step(within, 1.0 - 1.5 / lane_height);
    colour = vec4(vec3(ink * gutter), 1.0);
}
