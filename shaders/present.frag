// present: a rendered scene onto a projector: crop, quarter-turn rotation, brightness (0 = blackout).
#version 330 core

uniform sampler2D scene;
uniform vec4 crop;           // x, y (from the top left), width, height as fractions of the scene
uniform int quarter_turns;   // 0–3, clockwise
uniform float brightness;

in vec2 uv;
out vec4 colour;

void main() {
    vec2 p = vec2(uv.x, 1.0 - uv.y);  // top-down, as images are
    for (int i = 0; i < quarter_turns; i++) p = vec2(p.y, 1.0 - p.x);
    vec2 q = crop.xy + p * crop.zw;
    colour = vec4(texture(scene, vec2(q.x, 1.0 - q.y)).rgb * brightness, 1.0);
}
