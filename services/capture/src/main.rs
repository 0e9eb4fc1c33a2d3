fn main() -> anyhow::Result<()> {
    conoceles_capture::cli::main()
}
