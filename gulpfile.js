// Copies what tsc does not: node/credential icons (SVG) and codex files (*.node.json).
const { src, dest, parallel } = require('gulp');

function icons() {
	return src(['nodes/**/*.svg', 'credentials/**/*.svg'], { base: '.', encoding: false }).pipe(
		dest('dist'),
	);
}
function codex() {
	return src(['nodes/**/*.node.json'], { base: '.' }).pipe(dest('dist'));
}
exports.build = parallel(icons, codex);
exports.default = exports.build;
