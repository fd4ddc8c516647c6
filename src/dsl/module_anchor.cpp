// Placeholder so the module library has a translation unit until its sources land.
namespace af {}
