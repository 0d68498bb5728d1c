fn main() {
    eprintln!("usage: cargo xtask regen [--check]");
    std::process::exit(2);
}
