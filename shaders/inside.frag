// inside: the generator's feature maps (one sample's 14×14 activations) as a drifting, warped texture.
#version 330 core

uniform sampler2D inside;    // the feature-map mosaic, greyscale, row 0 at the top
uniform vec2 resolution;
uniform float time;
uniform float flow;
uniform float warp;
uniform float contrast;

in vec2 uv;
out vec4 colour;

void main() {
    vec2 p = (uv - 0.5) * vec2(resolution.x / resolution.y, 1.0) + 0.5;
    float t = time * flow;
    p += warp * 0.04 * vec2(sin(p.y * 11.0 + t * 1.3), cos(p.x * 9.0 - t * 1.1));
    p += vec2(t * 0.01, t * 0.004);
    float a = texture(inside, vec2(fract(p.x), 1.0 - fract(p.y))).r;
    float b = texture(inside, vec2(fract(p.x * 0.5 + 0.25 + t * 0.003), 1.0 - fract(p.y * 0.5 - t * 0.002))).r;
    float v = pow(clamp(mix(a, b, 0.35) * contrast * 2.0, 0.0, 1.0), 0.8);
    vec3 cold = mix(vec3(0.0, 0.02, 0.05), vec3(0.2, 0.8, 0.9), v);
    colour = vec4(mix(cold, vec3(1.0), smoothstep(0.8, 1.0, v)), 1.0);
}
